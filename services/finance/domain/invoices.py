"""Client invoices: requested by a manager, issued by an accountant, paid in parts.

The balance is always `total - paid`; `paid` is the sum of every payment and refund
recorded against the invoice, and may exceed the total (an overpayment is kept and
reported, never dropped). The status follows from the balance once the invoice is issued.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from services.common.errors import Conflict, FieldProblem, ValidationFailed
from services.finance.domain.amounts import minor_units, parse_amount, parse_quantity

ZERO = Decimal("0.00")


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    FULLY_PAID = "fully_paid"
    CANCELLED = "cancelled"


S = InvoiceStatus
PAYABLE = frozenset({S.ISSUED, S.PARTIALLY_PAID, S.FULLY_PAID})


@dataclass(frozen=True)
class Line:
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass
class Invoice:
    id: int
    deal_id: int | None
    owner_id: int  # the manager the invoice belongs to (the deal's responsible)
    requested_by: int | None
    counterparty: str
    currency: str
    status: InvoiceStatus
    lines: list[Line]
    total: Decimal
    paid: Decimal = ZERO
    number: str = ""
    due_date: date | None = None
    file_ref: str = ""
    comment: str = ""
    issued_by: int | None = None
    created_at: datetime | None = None
    issued_at: datetime | None = None
    version: int = 1
    fully_paid_count: int = 0

    @property
    def balance(self) -> Decimal:
        return self.total - self.paid

    @property
    def overpaid(self) -> Decimal:
        return max(ZERO, self.paid - self.total)


def check_transition(src: InvoiceStatus, dst: InvoiceStatus) -> None:
    """Conflict unless the invoice may go from `src` to `dst`."""
    match (src, dst):
        case (S.DRAFT, S.ISSUED) | (S.DRAFT, S.CANCELLED) | (S.ISSUED, S.CANCELLED):
            return
        case (S.ISSUED | S.PARTIALLY_PAID | S.FULLY_PAID, S.ISSUED | S.PARTIALLY_PAID):
            return  # payments and refunds move between these
        case (S.ISSUED | S.PARTIALLY_PAID | S.FULLY_PAID, S.FULLY_PAID):
            return
        case _:
            raise Conflict(f"an invoice cannot go from {src} to {dst}")


def status_for(total: Decimal, paid: Decimal) -> InvoiceStatus:
    """The status of an issued invoice with this much paid."""
    if paid >= total:
        return S.FULLY_PAID
    return S.ISSUED if paid <= 0 else S.PARTIALLY_PAID


def build_lines(raw: list[tuple[str, str, str]], currency: str, where: str = "lines") -> list[Line]:
    """Lines from (description, quantity, unit price) strings; amounts rounded half up."""
    problems: list[FieldProblem] = []
    lines: list[Line] = []
    cent = Decimal(1).scaleb(-minor_units(currency))
    for i, (description, quantity, unit_price) in enumerate(raw):
        try:
            if not description.strip() or len(description) > 1000:
                raise ValidationFailed(
                    FieldProblem(f"{where}[{i}].description", "must be 1-1000 characters")
                )
            qty = parse_quantity(quantity, f"{where}[{i}].quantity")
            price = parse_amount(unit_price, currency, f"{where}[{i}].unit_price")
        except ValidationFailed as exc:
            problems.extend(exc.problems)
            continue
        amount = (qty * price).quantize(cent, ROUND_HALF_UP)
        lines.append(Line(description.strip(), qty, price, amount))
    if problems:
        raise ValidationFailed(problems)
    return lines


def total_of(lines: list[Line]) -> Decimal:
    return sum((line.amount for line in lines), ZERO)


def check_issue(invoice: Invoice, *, number: str, due_date: date | None, file_ref: str) -> None:
    """What an accountant must give to issue an invoice; every problem at once."""
    check_transition(invoice.status, S.ISSUED)
    problems: list[FieldProblem] = []
    if not number.strip() or len(number) > 64:
        problems.append(FieldProblem("number", "must be 1-64 characters"))
    if due_date is None:
        problems.append(FieldProblem("due_date", "is required to issue an invoice"))
    if not file_ref.strip():
        problems.append(FieldProblem("file", "attach the invoice file"))
    if not invoice.lines or invoice.total <= 0:
        problems.append(FieldProblem("lines", "an invoice needs lines with a positive total"))
    if problems:
        raise ValidationFailed(problems)


@dataclass(frozen=True)
class PaymentEffect:
    """What one payment (or refund, negative) does to an invoice."""

    paid_before: Decimal
    paid_after: Decimal
    status_before: InvoiceStatus
    status_after: InvoiceStatus
    revenue_delta: Decimal  # change of the part of `paid` within the total
    overpayment: Decimal  # the part of this payment above the total
    became_fully_paid: bool = field(default=False)


def apply_payment(invoice: Invoice, amount: Decimal) -> PaymentEffect:
    """Record `amount` (negative: a refund) on an issued invoice, in place."""
    if invoice.status not in PAYABLE:
        raise Conflict(f"payments are recorded on issued invoices, this one is {invoice.status}")
    before, after = invoice.paid, invoice.paid + amount
    if after < 0:
        raise ValidationFailed(
            FieldProblem("amount", f"a refund cannot exceed what was paid ({before})")
        )
    status = status_for(invoice.total, after)
    check_transition(invoice.status, status)
    effect = PaymentEffect(
        paid_before=before,
        paid_after=after,
        status_before=invoice.status,
        status_after=status,
        revenue_delta=min(after, invoice.total) - min(before, invoice.total),
        overpayment=max(ZERO, after - max(before, invoice.total)),
        became_fully_paid=status is S.FULLY_PAID and invoice.status is not S.FULLY_PAID,
    )
    invoice.paid, invoice.status = after, status
    if effect.became_fully_paid:
        invoice.fully_paid_count += 1
    return effect
