"""gRPC servicer of the finance service: proto <-> domain mapping only."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
from dealflow.finance.v1 import finance_pb2 as pb
from dealflow.finance.v1 import finance_pb2_grpc as pb_grpc

from services.common.grpc_server import actor_id
from services.common.ids import optional_id, parse_id
from services.common.pagination import clamp_limit
from services.finance.api_mappers import (
    entry_pb,
    invoice_pb,
    lines_in,
    margin_pb,
    money_pb,
    opt_date,
    payment_pb,
    spend_kind,
    spend_pb,
)
from services.finance.domain.payments import PaymentFilter
from services.finance.service import FinanceService

Ctx: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"


class FinanceApi(pb_grpc.FinanceServiceServicer):  # type: ignore[misc]
    def __init__(self, service: FinanceService) -> None:
        self._service = service
        self._spends = service.spends
        self._ledger = service.ledger

    async def GetDealMoney(self, request: pb.GetDealMoneyRequest, context: Ctx) -> pb.DealMoney:
        money = await self._ledger.deal_money(
            actor_id=actor_id(context), deal_id=parse_id(request.deal_id, "deal_id")
        )
        return money_pb(money)

    # ---- invoices and payments ----
    async def RequestInvoice(self, request: pb.RequestInvoiceRequest, context: Ctx) -> pb.Invoice:
        inv = await self._service.request_invoice(
            actor_id=actor_id(context),
            deal_id=optional_id(request.deal_id, "deal_id"),
            owner_id=optional_id(request.owner_id, "owner_id"),
            counterparty=request.counterparty,
            currency=request.currency,
            lines=lines_in(list(request.lines)),
            due_date=opt_date(request.due_date, "due_date"),
            comment=request.comment,
            idempotency_key=request.idempotency_key,
        )
        return invoice_pb(inv)

    async def IssueInvoice(self, request: pb.IssueInvoiceRequest, context: Ctx) -> pb.Invoice:
        inv = await self._service.issue_invoice(
            actor_id=actor_id(context),
            invoice_id=parse_id(request.invoice_id, "invoice_id"),
            number=request.number,
            lines=lines_in(list(request.lines)),
            due_date=opt_date(request.due_date, "due_date"),
            file_ref=request.file,
        )
        return invoice_pb(inv)

    async def CancelInvoice(self, request: pb.InvoiceRef, context: Ctx) -> pb.Invoice:
        inv = await self._service.cancel_invoice(
            actor_id=actor_id(context), invoice_id=parse_id(request.invoice_id, "invoice_id")
        )
        return invoice_pb(inv)

    async def GetInvoice(self, request: pb.InvoiceRef, context: Ctx) -> pb.Invoice:
        inv = await self._service.get_invoice(
            actor_id=actor_id(context), invoice_id=parse_id(request.invoice_id, "invoice_id")
        )
        return invoice_pb(inv)

    async def ListInvoices(
        self, request: pb.ListInvoicesRequest, context: Ctx
    ) -> pb.ListInvoicesResponse:
        page = await self._service.list_invoices(
            actor_id=actor_id(context),
            deal_id=optional_id(request.deal_id, "deal_id"),
            status=request.status,
            counterparty=request.counterparty,
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        return pb.ListInvoicesResponse(
            invoices=[invoice_pb(i) for i in page.items], next_cursor=page.next_cursor
        )

    async def RecordPayment(
        self, request: pb.RecordPaymentRequest, context: Ctx
    ) -> pb.RecordPaymentResponse:
        payment, inv = await self._service.record_payment(
            actor_id=actor_id(context),
            invoice_id=parse_id(request.invoice_id, "invoice_id"),
            amount=request.amount,
            paid_on=opt_date(request.paid_on, "paid_on"),
            reference=request.reference,
            idempotency_key=request.idempotency_key,
        )
        return pb.RecordPaymentResponse(payment=payment_pb(payment), invoice=invoice_pb(inv))

    async def ListPayments(
        self, request: pb.ListPaymentsRequest, context: Ctx
    ) -> pb.ListPaymentsResponse:
        where = PaymentFilter(
            counterparty=request.counterparty,
            direction=request.direction,
            date_from=opt_date(request.date_from, "date_from"),
            date_to=opt_date(request.date_to, "date_to"),
            status=request.status,
            deal_id=optional_id(request.deal_id, "deal_id"),
            invoice_id=optional_id(request.invoice_id, "invoice_id"),
        )
        page = await self._service.list_payments(
            actor_id=actor_id(context),
            where=where,
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        return pb.ListPaymentsResponse(
            payments=[payment_pb(p) for p in page.items], next_cursor=page.next_cursor
        )

    # ---- spends ----
    async def CreateSpend(self, request: pb.CreateSpendRequest, context: Ctx) -> pb.Spend:
        spend = await self._spends.create(
            kind=spend_kind(request.kind),
            actor_id=actor_id(context),
            deal_id=optional_id(request.deal_id, "deal_id"),
            owner_id=optional_id(request.owner_id, "owner_id"),
            counterparty=request.counterparty,
            purpose=request.purpose,
            amount=request.amount,
            currency=request.currency,
            due_date=opt_date(request.due_date, "due_date"),
            idempotency_key=request.idempotency_key,
        )
        return spend_pb(spend)

    async def GetSpend(self, request: pb.SpendRef, context: Ctx) -> pb.Spend:
        return spend_pb(await self._spends.get(**_ref(request, context)))

    async def ListSpends(
        self, request: pb.ListSpendsRequest, context: Ctx
    ) -> pb.ListSpendsResponse:
        page = await self._spends.list_page(
            kind=spend_kind(request.kind),
            actor_id=actor_id(context),
            status=request.status,
            deal_id=optional_id(request.deal_id, "deal_id"),
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        return pb.ListSpendsResponse(
            spends=[spend_pb(s) for s in page.items], next_cursor=page.next_cursor
        )

    async def SubmitSpend(self, request: pb.SpendRef, context: Ctx) -> pb.Spend:
        return spend_pb(await self._spends.submit(**_ref(request, context)))

    async def CancelSpend(self, request: pb.SpendRef, context: Ctx) -> pb.Spend:
        return spend_pb(await self._spends.cancel(**_ref(request, context)))

    async def DecideSpend(self, request: pb.DecideSpendRequest, context: Ctx) -> pb.Spend:
        spend = await self._spends.decide(
            kind=spend_kind(request.kind),
            actor_id=actor_id(context),
            spend_id=parse_id(request.spend_id, "spend_id"),
            outcome=request.outcome,
            comment=request.comment,
            decided_by=optional_id(request.decided_by, "decided_by"),
        )
        return spend_pb(spend)

    async def PaySpend(self, request: pb.PaySpendRequest, context: Ctx) -> pb.PaySpendResponse:
        spend, payment = await self._spends.pay(
            kind=spend_kind(request.kind),
            actor_id=actor_id(context),
            spend_id=parse_id(request.spend_id, "spend_id"),
            paid_on=opt_date(request.paid_on, "paid_on"),
            reference=request.reference,
            idempotency_key=request.idempotency_key,
        )
        return pb.PaySpendResponse(spend=spend_pb(spend), payment=payment_pb(payment))

    async def CloseSpend(self, request: pb.CloseSpendRequest, context: Ctx) -> pb.Spend:
        spend = await self._spends.close(
            actor_id=actor_id(context),
            spend_id=parse_id(request.spend_id, "spend_id"),
            documents=list(request.documents),
        )
        return spend_pb(spend)

    # ---- schedule and reports ----
    async def GetPaymentSchedule(
        self, request: pb.GetPaymentScheduleRequest, context: Ctx
    ) -> pb.PaymentSchedule:
        entries = await self._ledger.schedule(
            actor_id=actor_id(context),
            date_from=opt_date(request.date_from, "date_from"),
            date_to=opt_date(request.date_to, "date_to"),
        )
        return pb.PaymentSchedule(entries=[entry_pb(e) for e in entries])

    async def ResetPaymentSchedule(
        self, request: pb.ResetPaymentScheduleRequest, context: Ctx
    ) -> pb.ResetPaymentScheduleResponse:
        mark = await self._ledger.reset_schedule(actor_id=actor_id(context))
        return pb.ResetPaymentScheduleResponse(after_entry_id=str(mark))

    async def GetMarginReport(
        self, request: pb.GetMarginReportRequest, context: Ctx
    ) -> pb.MarginReport:
        rows = await self._ledger.margin(
            actor_id=actor_id(context),
            date_from=opt_date(request.date_from, "date_from"),
            date_to=opt_date(request.date_to, "date_to"),
        )
        return pb.MarginReport(rows=[margin_pb(r) for r in rows])


def _ref(request: pb.SpendRef, context: Ctx) -> dict[str, Any]:
    return {
        "kind": spend_kind(request.kind),
        "actor_id": actor_id(context),
        "spend_id": parse_id(request.spend_id, "spend_id"),
    }


def register(server: grpc.aio.Server, service: FinanceService) -> list[str]:
    pb_grpc.add_FinanceServiceServicer_to_server(FinanceApi(service), server)
    return [pb.DESCRIPTOR.services_by_name["FinanceService"].full_name]
