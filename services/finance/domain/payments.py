"""The payment registry: one entry per payment or refund, money in (from clients) and out
(to suppliers, for expenses). Entries are never edited; a mistake is corrected by a refund."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from services.common.errors import FieldProblem, ValidationFailed


class PaymentKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"


@dataclass(frozen=True)
class Payment:
    id: int
    direction: str  # in or out
    kind: PaymentKind
    invoice_id: int | None
    spend_id: int | None
    deal_id: int | None
    owner_id: int
    counterparty: str
    amount: Decimal  # negative for a refund
    currency: str
    paid_on: date
    reference: str
    recorded_by: int | None
    revenue_delta: Decimal
    cost_delta: Decimal
    overpayment: Decimal
    created_at: datetime


@dataclass(frozen=True)
class PaymentFilter:
    counterparty: str = ""
    direction: str = ""
    date_from: date | None = None
    date_to: date | None = None
    status: str = ""  # the status of the invoice or spend the entry settles
    deal_id: int | None = None
    invoice_id: int | None = None


def check_filter(where: PaymentFilter) -> PaymentFilter:
    if where.direction not in ("", "in", "out"):
        raise ValidationFailed(FieldProblem("direction", "must be in or out"))
    if where.date_from and where.date_to and where.date_from > where.date_to:
        raise ValidationFailed(FieldProblem("date_from", "must not be after date_to"))
    return where


def kind_of(amount: Decimal) -> PaymentKind:
    return PaymentKind.REFUND if amount < 0 else PaymentKind.PAYMENT


def check_reference(reference: str) -> str:
    if len(reference) > 300:
        raise ValidationFailed(FieldProblem("reference", "must be at most 300 characters"))
    return reference.strip()
