"""REST schemas of finance. Amounts are decimal strings both ways (never JSON numbers)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, Field

from services.gateway.schemas.common import Input, RecordId, id_or_none, str_or_none

# At most 2 decimal places and no exponent; the service applies the currency's own rule.
Money = Annotated[str, Field(pattern=r"^\d{1,16}(\.\d{1,2})?$", examples=["1500.00"])]
SignedMoney = Annotated[
    str,
    Field(pattern=r"^-?\d{1,16}(\.\d{1,2})?$", examples=["1500.00", "-200.00"]),
]
Quantity = Annotated[str, Field(pattern=r"^\d{1,12}(\.\d{1,3})?$", examples=["2", "0.5"])]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["RUB"])]


def _date(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


class LineIn(Input):
    description: str = Field(min_length=1, max_length=1000)
    quantity: Quantity = "1"
    unit_price: Money


class LineOut(BaseModel):
    description: str
    quantity: str
    unit_price: str
    amount: str


class InvoiceRequestIn(Input):
    deal_id: RecordId | None = None
    counterparty: str = Field(min_length=1, max_length=300, description="the client billed")
    currency: Currency = "RUB"
    lines: list[LineIn] = Field([], description="proposed lines; the accountant may change them")
    due_date: date | None = None
    comment: str = Field("", max_length=2000)


class InvoiceIssueIn(Input):
    number: str = Field(min_length=1, max_length=64)
    lines: list[LineIn] = Field([], description="empty: issue the requested lines")
    due_date: date | None = None
    file: str = Field(min_length=1, max_length=1000, description="the invoice file (URL or id)")


class InvoiceOut(BaseModel):
    id: int
    deal_id: int | None
    owner_id: int
    requested_by: int | None
    counterparty: str
    currency: str
    status: str
    lines: list[LineOut]
    total: str
    paid: str
    balance: str
    overpaid: str
    number: str | None
    due_date: date | None
    file: str | None
    comment: str
    issued_by: int | None
    version: int

    @classmethod
    def of(cls, m: Any) -> InvoiceOut:
        return cls(
            id=int(m.id),
            deal_id=id_or_none(m.deal_id),
            owner_id=int(m.owner_id),
            requested_by=id_or_none(m.requested_by),
            counterparty=m.counterparty,
            currency=m.currency,
            status=m.status,
            lines=[LineOut(**{k: getattr(ln, k) for k in LineOut.model_fields}) for ln in m.lines],
            total=m.total,
            paid=m.paid,
            balance=m.balance,
            overpaid=m.overpaid,
            number=str_or_none(m.number),
            due_date=_date(m.due_date),
            file=str_or_none(m.file),
            comment=m.comment,
            issued_by=id_or_none(m.issued_by),
            version=m.version,
        )


class PaymentIn(Input):
    amount: SignedMoney = Field(description="negative for a refund")
    paid_on: date | None = Field(None, description="default: today")
    reference: str = Field("", max_length=300, description="bank document number")


class PaymentOut(BaseModel):
    id: int
    direction: str
    kind: str
    invoice_id: int | None
    spend_id: int | None
    deal_id: int | None
    owner_id: int
    counterparty: str
    amount: str
    currency: str
    paid_on: date
    reference: str
    recorded_by: int | None
    overpayment: str

    @classmethod
    def of(cls, m: Any) -> PaymentOut:
        return cls(
            id=int(m.id),
            direction=m.direction,
            kind=m.kind,
            invoice_id=id_or_none(m.invoice_id),
            spend_id=id_or_none(m.spend_id),
            deal_id=id_or_none(m.deal_id),
            owner_id=int(m.owner_id),
            counterparty=m.counterparty,
            amount=m.amount,
            currency=m.currency,
            paid_on=date.fromisoformat(m.paid_on),
            reference=m.reference,
            recorded_by=id_or_none(m.recorded_by),
            overpayment=m.overpayment,
        )


class RecordedPaymentOut(BaseModel):
    payment: PaymentOut
    invoice: InvoiceOut


class SpendIn(Input):
    deal_id: RecordId | None = None
    counterparty: str = Field("", max_length=300, description="the supplier paid")
    purpose: str = Field(min_length=1, max_length=2000)
    amount: Money
    currency: Currency = "RUB"
    due_date: date


class SpendPayIn(Input):
    paid_on: date | None = None
    reference: str = Field("", max_length=300)


class ClosingDocumentsIn(Input):
    documents: list[str] = Field(min_length=1, description="closing documents (URLs or ids)")


class SpendOut(BaseModel):
    id: int
    deal_id: int | None
    owner_id: int
    author_id: int | None
    counterparty: str
    purpose: str
    amount: str
    currency: str
    due_date: date
    status: str
    decision_comment: str
    decided_by: int | None
    paid_by: int | None
    payment_id: int | None
    closing_documents: list[str]
    # The process a submission started (`deal-42/supplier-payment/1`); submit answers only.
    process_id: str | None = None

    @classmethod
    def of(cls, m: Any, *, process_id: str | None = None) -> SpendOut:
        return cls(
            id=int(m.id),
            deal_id=id_or_none(m.deal_id),
            owner_id=int(m.owner_id),
            author_id=id_or_none(m.author_id),
            counterparty=m.counterparty,
            purpose=m.purpose,
            amount=m.amount,
            currency=m.currency,
            due_date=date.fromisoformat(m.due_date),
            status=m.status,
            decision_comment=m.decision_comment,
            decided_by=id_or_none(m.decided_by),
            paid_by=id_or_none(m.paid_by),
            payment_id=id_or_none(m.payment_id),
            closing_documents=list(m.closing_documents),
            process_id=process_id,
        )


class PaidSpendOut(BaseModel):
    spend: SpendOut
    payment: PaymentOut


class ScheduleEntryOut(BaseModel):
    id: int
    source: str
    source_id: int
    direction: str
    amount: str
    currency: str
    due_date: date
    owner_id: int
    state: str
    running_total: str = Field(description="sum so far in creation order since the last reset")

    @classmethod
    def of(cls, m: Any) -> ScheduleEntryOut:
        values = {k: getattr(m, k) for k in cls.model_fields}
        return cls(**values)


class ScheduleResetOut(BaseModel):
    after_entry_id: int


class MarginRowOut(BaseModel):
    manager_id: int
    currency: str
    revenue: str
    costs: str
    profit: str
    profit_percent: str | None
    deals: int

    @classmethod
    def of(cls, m: Any) -> MarginRowOut:
        values = {k: getattr(m, k) for k in cls.model_fields}
        values["profit_percent"] = str_or_none(m.profit_percent)
        return cls(**values)
