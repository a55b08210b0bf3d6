"""Client invoices (SM-5): a manager requests one from a deal, an accountant issues it,
payments and refunds are recorded against it."""

from __future__ import annotations

from typing import Annotated

from dealflow.finance.v1 import finance_pb2 as pb
from fastapi import APIRouter, Header, Query

from services.gateway.deps import CurrentUser, Finance
from services.gateway.idempotency import CreationKey
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import Page, RecordId, cursor_or_none
from services.gateway.schemas.finance import (
    InvoiceIssueIn,
    InvoiceOut,
    InvoiceRequestIn,
    LineIn,
    PaymentIn,
    PaymentOut,
    RecordedPaymentOut,
)

router = APIRouter(prefix=API_PREFIX + "/invoices", tags=["finance"], responses=COMMON_RESPONSES)
Limit = Annotated[int, Query(ge=1, le=200)]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", max_length=200, description="a retry records once")
]


def _lines(lines: list[LineIn]) -> list[pb.InvoiceLine]:
    return [
        pb.InvoiceLine(description=ln.description, quantity=ln.quantity, unit_price=ln.unit_price)
        for ln in lines
    ]


@router.post("", status_code=201, responses=responses(403, 404))
async def request_invoice(
    body: InvoiceRequestIn, _: CurrentUser, finance: Finance, key: CreationKey
) -> InvoiceOut:
    reply = await finance.RequestInvoice(
        pb.RequestInvoiceRequest(
            deal_id=str(body.deal_id or ""),
            counterparty=body.counterparty,
            currency=body.currency,
            lines=_lines(body.lines),
            due_date=body.due_date.isoformat() if body.due_date else "",
            comment=body.comment,
            idempotency_key=key,
        )
    )
    return InvoiceOut.of(reply)


@router.get("")
async def list_invoices(
    _: CurrentUser,
    finance: Finance,
    deal_id: RecordId | None = None,
    status: str = "",
    counterparty: str = "",
    cursor: str = "",
    limit: Limit = 50,
) -> Page[InvoiceOut]:
    reply = await finance.ListInvoices(
        pb.ListInvoicesRequest(
            deal_id=str(deal_id or ""),
            status=status,
            counterparty=counterparty,
            cursor=cursor,
            limit=limit,
        )
    )
    return Page(
        items=[InvoiceOut.of(i) for i in reply.invoices],
        next_cursor=cursor_or_none(reply.next_cursor),
    )


@router.get("/{invoice_id}", responses=responses(404))
async def get_invoice(invoice_id: RecordId, _: CurrentUser, finance: Finance) -> InvoiceOut:
    return InvoiceOut.of(await finance.GetInvoice(pb.InvoiceRef(invoice_id=str(invoice_id))))


@router.post("/{invoice_id}/issue", responses=responses(403, 404, 409))
async def issue_invoice(
    invoice_id: RecordId, body: InvoiceIssueIn, _: CurrentUser, finance: Finance
) -> InvoiceOut:
    reply = await finance.IssueInvoice(
        pb.IssueInvoiceRequest(
            invoice_id=str(invoice_id),
            number=body.number,
            lines=_lines(body.lines),
            due_date=body.due_date.isoformat() if body.due_date else "",
            file=body.file,
        )
    )
    return InvoiceOut.of(reply)


@router.post("/{invoice_id}/cancel", responses=responses(403, 404, 409))
async def cancel_invoice(invoice_id: RecordId, _: CurrentUser, finance: Finance) -> InvoiceOut:
    return InvoiceOut.of(await finance.CancelInvoice(pb.InvoiceRef(invoice_id=str(invoice_id))))


@router.get("/{invoice_id}/payments", responses=responses(404))
async def invoice_payments(
    invoice_id: RecordId, _: CurrentUser, finance: Finance, cursor: str = "", limit: Limit = 50
) -> Page[PaymentOut]:
    await finance.GetInvoice(pb.InvoiceRef(invoice_id=str(invoice_id)))  # 404 if not seen
    reply = await finance.ListPayments(
        pb.ListPaymentsRequest(invoice_id=str(invoice_id), cursor=cursor, limit=limit)
    )
    return Page(
        items=[PaymentOut.of(p) for p in reply.payments],
        next_cursor=cursor_or_none(reply.next_cursor),
    )


@router.post("/{invoice_id}/payments", status_code=201, responses=responses(403, 404, 409))
async def record_payment(
    invoice_id: RecordId,
    body: PaymentIn,
    user: CurrentUser,
    finance: Finance,
    idempotency_key: IdempotencyKey = None,
) -> RecordedPaymentOut:
    """A payment received (or, negative, a refund); the balance is recomputed with it."""
    reply = await finance.RecordPayment(
        pb.RecordPaymentRequest(
            invoice_id=str(invoice_id),
            amount=body.amount,
            paid_on=body.paid_on.isoformat() if body.paid_on else "",
            reference=body.reference,
            idempotency_key=f"user-{user.id}/{idempotency_key}" if idempotency_key else "",
        )
    )
    return RecordedPaymentOut(
        payment=PaymentOut.of(reply.payment), invoice=InvoiceOut.of(reply.invoice)
    )
