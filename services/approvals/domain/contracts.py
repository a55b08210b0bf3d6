"""Contract statuses and the moves between them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from services.common.errors import DomainError, FieldProblem, ValidationFailed


class ContractStatus(StrEnum):
    DRAFT = "draft"
    IN_APPROVAL = "in_approval"
    APPROVED = "approved"
    SENT = "sent"
    SIGNED = "signed"
    REJECTED = "rejected"


class CounterpartyKind(StrEnum):
    CLIENT = "client"
    SUPPLIER = "supplier"


class DocumentKind(StrEnum):
    DRAFT = "draft"
    SIGNED_SCAN = "signed_scan"


class BadTransition(DomainError):
    """The contract's status does not allow that move (FAILED_PRECONDITION, 409)."""

    code = "bad_transition"


def parse_status(value: str) -> ContractStatus:
    try:
        return ContractStatus(value)
    except ValueError:
        allowed = ", ".join(s.value for s in ContractStatus)
        raise ValidationFailed(FieldProblem("status", f"must be one of {allowed}")) from None


def check_transition(current: ContractStatus, target: ContractStatus) -> None:
    """BadTransition unless `current` may become `target`."""
    S = ContractStatus
    match (current, target):
        case (S.DRAFT | S.REJECTED, S.IN_APPROVAL):
            return  # first submission, or a resubmission after new terms
        case (S.IN_APPROVAL, S.APPROVED | S.REJECTED):
            return
        case (S.APPROVED, S.SENT):
            return
        case (S.SENT, S.SIGNED):
            return
        case (S.DRAFT, S.REJECTED):
            return
    raise BadTransition(f"a contract in status {current} cannot become {target}")


def status_after_document(current: ContractStatus, kind: DocumentKind) -> ContractStatus:
    """A scan signed by both sides makes a sent (or approved) contract signed."""
    if kind is DocumentKind.SIGNED_SCAN:
        if current not in (ContractStatus.APPROVED, ContractStatus.SENT):
            raise BadTransition(f"a signed scan cannot be added to a {current} contract")
        return ContractStatus.SIGNED
    if current is ContractStatus.SIGNED:
        raise BadTransition("a signed contract takes no new draft versions")
    return current


@dataclass
class ContractDocument:
    id: int
    version: int
    file_id: int
    kind: str
    uploaded_by: int | None
    created_at: datetime


@dataclass
class Contract:
    id: int
    deal_id: int
    type_code: str
    counterparty_kind: str
    counterparty_name: str
    title: str
    number: str
    amount: Decimal | None
    currency: str
    starts_on: date | None
    ends_on: date | None
    status: str
    manager_id: int
    request_id: int | None
    created_at: datetime
    updated_at: datetime
    documents: list[ContractDocument] = field(default_factory=list)


@dataclass(frozen=True)
class ContractFilter:
    type_code: str = ""
    counterparty_kind: str = ""
    counterparty: str = ""  # name contains
    status: str = ""
    manager_id: int | None = None
    deal_id: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
