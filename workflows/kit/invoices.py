"""Waiting for money in finance: a process waits until an invoice has a payment registered
(a prepayment) or is fully paid, and learns it from finance's events.

The worker's consumer of `finance.payment.recorded` (workflows/invoice_changes.py) sends
every running process of the invoice's deal the `invoice_changed` Signal (the process kit
declares it once, workflows/kit/process.py); a wait also reads the invoice once when it
begins, so a payment recorded before the wait (or before the consumer got to it) counts.

    await self.invoices.wait_paid(invoice_id)         # a payment is registered on it
    await self.invoices.wait_paid(invoice_id, fully=True)

What was seen sticks: a later refund does not un-register a prepayment that production
was waiting for, and a redelivered or reordered event changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.activities import finance_calls as fc
    from workflows.activities.finance_types import InvoiceRefInput

INVOICE_CHANGED_SIGNAL = "invoice_changed"
FULLY_PAID = "fully_paid"


@dataclass
class InvoiceChange:
    """What finance's event says of an invoice (amounts as decimal strings)."""

    invoice_id: str
    status: str
    paid: str = "0"
    balance: str = ""


@dataclass
class InvoiceSeen:
    paid: bool = False  # a payment was registered on it
    fully_paid: bool = False
    last: InvoiceChange | None = None


@dataclass
class InvoiceWaits:
    seen: dict[str, InvoiceSeen] = field(default_factory=dict)

    def apply(self, change: InvoiceChange) -> None:
        seen = self.seen.setdefault(change.invoice_id, InvoiceSeen())
        seen.paid = seen.paid or positive(change.paid)
        seen.fully_paid = seen.fully_paid or change.status == FULLY_PAID
        seen.last = change

    def is_paid(self, invoice_id: str, *, fully: bool = False) -> bool:
        seen = self.seen.get(invoice_id)
        if seen is None:
            return False
        return seen.fully_paid if fully else seen.paid or seen.fully_paid

    async def wait_paid(self, invoice_id: str, *, fully: bool = False) -> InvoiceChange:
        """Until the invoice has a payment (`fully`: is fully paid); what was seen last."""
        info = await fc.get_invoice(InvoiceRefInput(invoice_id))
        self.apply(InvoiceChange(info.id, info.status, info.paid, info.balance))
        await workflow.wait_condition(lambda: self.is_paid(invoice_id, fully=fully))
        last = self.seen[invoice_id].last
        assert last is not None
        return last


def positive(amount: Any) -> bool:
    """An amount (a decimal string or number) above zero; False for anything else."""
    try:
        return Decimal(str(amount or "0")) > 0
    except InvalidOperation:
        return False
