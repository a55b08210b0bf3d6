"""Inputs and outputs of the finance activities (spends: supplier payment requests and
expenses); plain dataclasses, so workflow files import them without gRPC."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SpendRefInput:
    kind: str  # supplier_payment | expense
    spend_id: str


@dataclass
class SpendInfo:
    id: str
    kind: str
    status: str
    deal_id: str  # "" when not linked to a deal
    owner_id: str
    author_id: str
    counterparty: str
    purpose: str
    amount: str
    currency: str
    due_date: str  # YYYY-MM-DD


@dataclass
class DecideSpendInput:
    kind: str
    spend_id: str
    outcome: str  # approve | reject
    comment: str
    decided_by: str


@dataclass
class PaySpendInput:
    idempotency_key: str
    kind: str
    spend_id: str
    actor_id: str  # the accountant who answered the task: finance checks their rights
    reference: str = ""
    paid_on: str = ""  # YYYY-MM-DD; "" -> today


@dataclass
class PaymentInfo:
    id: str
    amount: str
    currency: str
    paid_on: str


@dataclass
class CloseSpendInput:
    spend_id: str
    actor_id: str
    documents: list[str] = field(default_factory=list)


@dataclass
class InvoiceLineInput:
    description: str
    quantity: str  # decimal as a string
    unit_price: str


@dataclass
class RequestInvoiceInput:
    """A draft invoice of the deal, requested as `actor_id` (finance checks their rights)."""

    idempotency_key: str
    deal_id: str
    actor_id: str
    counterparty: str
    currency: str
    lines: list[InvoiceLineInput]
    due_date: str = ""  # YYYY-MM-DD
    comment: str = ""


@dataclass
class IssueInvoiceInput:
    """The accountant (`actor_id`) issues the draft: number, due date and the file."""

    invoice_id: str
    actor_id: str
    number: str
    due_date: str
    file: str


@dataclass
class InvoiceRefInput:
    invoice_id: str


@dataclass
class InvoiceInfo:
    id: str
    deal_id: str
    status: str  # draft, issued, partially_paid, fully_paid, cancelled
    currency: str
    total: str
    paid: str
    balance: str
    number: str = ""
