"""Spends: money going out on a decision. Two kinds share one life cycle:

- a supplier payment request (SM-6): manager → approval (CEO) → the accountant pays and
  records the payment, then the closing documents;
- an expense (SN-6): registered (several may wait) → submitted for approval (heads) →
  approved: the accountant prepares and records the payment → paid.

The approval itself runs elsewhere (the approval chain); it ends by calling `decide`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from services.common.errors import Conflict, FieldProblem, ValidationFailed


class SpendKind(StrEnum):
    SUPPLIER_PAYMENT = "supplier_payment"
    EXPENSE = "expense"


class SpendStatus(StrEnum):
    DRAFT = "draft"
    IN_APPROVAL = "in_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAID = "paid"
    CLOSED = "closed"  # closing documents recorded (supplier payments)
    CANCELLED = "cancelled"


K, S = SpendKind, SpendStatus


@dataclass
class Spend:
    id: int
    kind: SpendKind
    owner_id: int  # the manager it belongs to (the deal's responsible, else the author)
    author_id: int | None
    deal_id: int | None
    counterparty: str
    purpose: str
    amount: Decimal
    currency: str
    due_date: date
    status: SpendStatus = S.DRAFT
    decision_comment: str = ""
    decided_by: int | None = None
    paid_by: int | None = None
    payment_id: int | None = None
    closing_documents: list[str] = field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None


def check_transition(kind: SpendKind, src: SpendStatus, dst: SpendStatus) -> None:
    """Conflict unless a spend of `kind` may go from `src` to `dst`."""
    match (kind, src, dst):
        case (_, S.DRAFT | S.REJECTED, S.IN_APPROVAL):
            return  # submit, or resubmit after a rejection
        case (_, S.IN_APPROVAL, S.APPROVED | S.REJECTED):
            return  # the approval's outcome
        case (_, S.APPROVED, S.PAID):
            return
        case (K.SUPPLIER_PAYMENT, S.PAID, S.CLOSED):
            return
        case (_, S.DRAFT | S.REJECTED, S.CANCELLED):
            return  # once approved, the process owns it: paid through the accountant's task
        case _:
            noun = "payment request" if kind is K.SUPPLIER_PAYMENT else "expense"
            raise Conflict(f"a {noun} cannot go from {src} to {dst}")


def move(spend: Spend, dst: SpendStatus) -> SpendStatus:
    """Change the status in place; the previous one is returned."""
    check_transition(spend.kind, spend.status, dst)
    src, spend.status = spend.status, dst
    return src


def check_new(
    *, kind: SpendKind, counterparty: str, purpose: str, due_date: date | None
) -> tuple[str, str, date]:
    problems: list[FieldProblem] = []
    counterparty, purpose = counterparty.strip(), purpose.strip()
    if kind is K.SUPPLIER_PAYMENT and not counterparty:
        problems.append(FieldProblem("counterparty", "name the supplier"))
    if len(counterparty) > 300:
        problems.append(FieldProblem("counterparty", "must be at most 300 characters"))
    if not purpose or len(purpose) > 2000:
        problems.append(FieldProblem("purpose", "must be 1-2000 characters"))
    if due_date is None:
        problems.append(FieldProblem("due_date", "is required"))
    if problems:
        raise ValidationFailed(problems)
    assert due_date is not None
    return counterparty, purpose, due_date


def check_decision(outcome: str, comment: str) -> SpendStatus:
    """approve or reject; a rejection needs a comment for the author."""
    match outcome:
        case "approve":
            return S.APPROVED
        case "reject" if comment.strip():
            return S.REJECTED
        case "reject":
            raise ValidationFailed(FieldProblem("comment", "a rejection needs a comment"))
        case _:
            raise ValidationFailed(FieldProblem("outcome", "must be approve or reject"))


def check_closing(documents: list[str]) -> list[str]:
    docs = [d.strip() for d in documents if d.strip()]
    if not docs:
        raise ValidationFailed(FieldProblem("documents", "attach at least one closing document"))
    return docs
