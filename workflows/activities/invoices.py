"""Activities of the processes' own invoices over the finance service (the promo project's
invoice and extra payment): request a draft as the manager who answered, issue it as the
accountant who answered (finance checks each one's rights), read it. Each is safe to
retry: the request carries a key finance keeps, an issue finds its invoice issued."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dealflow.finance.v1 import finance_pb2 as fpb
from dealflow.finance.v1 import finance_pb2_grpc
from temporalio import activity

from workflows.activities.finance_types import (
    InvoiceInfo,
    InvoiceRefInput,
    IssueInvoiceInput,
    RequestInvoiceInput,
)
from workflows.activities.services import _call


def _invoice(i: Any) -> InvoiceInfo:
    return InvoiceInfo(
        id=i.id,
        deal_id=i.deal_id,
        status=i.status,
        currency=i.currency,
        total=i.total,
        paid=i.paid,
        balance=i.balance,
        number=i.number,
    )


class InvoiceActivities:
    def __init__(self, finance: finance_pb2_grpc.FinanceServiceStub) -> None:
        self._finance = finance

    def all(self) -> list[Callable[..., Any]]:
        return [self.request_invoice, self.issue_invoice, self.get_invoice]

    @activity.defn(name="request_invoice")
    async def request_invoice(self, inp: RequestInvoiceInput) -> InvoiceInfo:
        """A draft invoice; the key makes a retry return the first one (finance keeps it)."""
        request = fpb.RequestInvoiceRequest(
            deal_id=inp.deal_id,
            counterparty=inp.counterparty,
            currency=inp.currency,
            lines=[
                fpb.InvoiceLine(
                    description=line.description, quantity=line.quantity, unit_price=line.unit_price
                )
                for line in inp.lines
            ],
            due_date=inp.due_date,
            comment=inp.comment,
            idempotency_key=inp.idempotency_key,
        )
        return _invoice(await _call(self._finance.RequestInvoice, request, actor=inp.actor_id))

    @activity.defn(name="issue_invoice")
    async def issue_invoice(self, inp: IssueInvoiceInput) -> InvoiceInfo:
        """Issue the draft; a retry that finds it issued with this number is done (finance
        would issue an issued invoice again)."""
        ref = fpb.InvoiceRef(invoice_id=inp.invoice_id)
        current = await _call(self._finance.GetInvoice, ref, actor=inp.actor_id)
        if current.status != "draft" and current.number == inp.number.strip():
            return _invoice(current)
        request = fpb.IssueInvoiceRequest(
            invoice_id=inp.invoice_id, number=inp.number, due_date=inp.due_date, file=inp.file
        )
        return _invoice(await _call(self._finance.IssueInvoice, request, actor=inp.actor_id))

    @activity.defn(name="get_invoice")
    async def get_invoice(self, inp: InvoiceRefInput) -> InvoiceInfo:
        return _invoice(
            await _call(self._finance.GetInvoice, fpb.InvoiceRef(invoice_id=inp.invoice_id))
        )
