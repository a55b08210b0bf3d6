"""Finance events (`finance.*`), as they go into the outbox. Ids and amounts are strings."""

from __future__ import annotations

from typing import Any

from services.common.db import PendingEvent
from services.finance.domain.amounts import money_str
from services.finance.domain.invoices import Invoice, PaymentEffect
from services.finance.domain.money import DealMoney
from services.finance.domain.payments import Payment
from services.finance.domain.spends import Spend, SpendKind

INVOICE = "finance.invoice."
PAYMENT_RECORDED = "finance.payment.recorded"
INVOICE_FULLY_PAID = "finance.invoice.fully_paid"
INVOICE_OVERPAID = "finance.invoice.overpaid"
DEAL_MONEY_CHANGED = "finance.deal.money_changed"
SCHEDULE_RESET = "finance.schedule.reset"
SPEND_PREFIX = {
    SpendKind.SUPPLIER_PAYMENT: "finance.payment_request.",
    SpendKind.EXPENSE: "finance.expense.",
}


def _actor(actor_id: int | None) -> str:
    return "" if actor_id is None else str(actor_id)


def _id(value: int | None) -> str:
    return "" if value is None else str(value)


def invoice_summary(inv: Invoice) -> dict[str, Any]:
    return {
        "invoice_id": str(inv.id),
        "deal_id": _id(inv.deal_id),
        "owner_id": str(inv.owner_id),
        "number": inv.number,
        "counterparty": inv.counterparty,
        "currency": inv.currency,
        "total": money_str(inv.total, inv.currency),
        "paid": money_str(inv.paid, inv.currency),
        "balance": money_str(inv.balance, inv.currency),
        "status": inv.status.value,
    }


def invoice_event(verb: str, inv: Invoice, actor_id: int | None, before: str) -> PendingEvent:
    """requested, issued or cancelled; `before` is the previous status ("" when new)."""
    data = {**invoice_summary(inv), "before": {"status": before}, "after": {"status": inv.status}}
    return PendingEvent(INVOICE + verb, f"invoice/{inv.id}", data, actor=_actor(actor_id))


def payment_events(
    inv: Invoice, payment: Payment, effect: PaymentEffect, actor_id: int | None
) -> list[PendingEvent]:
    """The registry entry, and the invoice reaching zero or being overpaid by it."""
    cur = inv.currency
    subject, actor = f"invoice/{inv.id}", _actor(actor_id)
    recorded = {
        **invoice_summary(inv),
        **payment_data(payment),
        "before": {"paid": money_str(effect.paid_before, cur), "status": effect.status_before},
        "after": {"paid": money_str(effect.paid_after, cur), "status": effect.status_after},
    }
    events = [PendingEvent(PAYMENT_RECORDED, subject, recorded, actor=actor)]
    if effect.became_fully_paid:
        data = {**invoice_summary(inv), "times": inv.fully_paid_count}
        events.append(PendingEvent(INVOICE_FULLY_PAID, subject, data, actor=actor))
    if effect.overpayment > 0:
        data = {
            **invoice_summary(inv),
            "payment_id": str(payment.id),
            "overpayment": money_str(effect.overpayment, cur),
            "overpaid": money_str(inv.overpaid, cur),
        }
        events.append(PendingEvent(INVOICE_OVERPAID, subject, data, actor=actor))
    return events


def payment_data(p: Payment) -> dict[str, Any]:
    return {
        "payment_id": str(p.id),
        "direction": p.direction,
        "kind": p.kind.value,
        "invoice_id": _id(p.invoice_id),
        "spend_id": _id(p.spend_id),
        "deal_id": _id(p.deal_id),
        "amount": money_str(p.amount, p.currency),
        "currency": p.currency,
        "paid_on": p.paid_on.isoformat(),
    }


def spend_event(
    verb: str, spend: Spend, actor_id: int | None, before: str, extra: dict[str, Any] | None = None
) -> PendingEvent:
    data = {
        "id": str(spend.id),
        "kind": spend.kind.value,
        "deal_id": _id(spend.deal_id),
        "owner_id": str(spend.owner_id),
        "author_id": _id(spend.author_id),
        "counterparty": spend.counterparty,
        "purpose": spend.purpose,
        "amount": money_str(spend.amount, spend.currency),
        "currency": spend.currency,
        "due_date": spend.due_date.isoformat(),
        "comment": spend.decision_comment,
        # Names the submission: the process it starts is started once per submission.
        "updated_at": spend.updated_at.isoformat() if spend.updated_at else "",
        "before": {"status": before},
        "after": {"status": spend.status.value},
        **(extra or {}),
    }
    noun = "payment_request" if spend.kind is SpendKind.SUPPLIER_PAYMENT else "expense"
    return PendingEvent(
        SPEND_PREFIX[spend.kind] + verb, f"{noun}/{spend.id}", data, actor=_actor(actor_id)
    )


def deal_money_event(money: DealMoney, version: int, actor_id: int | None) -> PendingEvent:
    """The deal's figures after a change, whole (a consumer needs no earlier event)."""
    percent = money.profit_percent
    data = {
        "deal_id": str(money.deal_id),
        "currency": money.currency,
        "revenue": money_str(money.revenue, money.currency),
        "costs": money_str(money.costs, money.currency),
        "profit": money_str(money.profit, money.currency),
        "profit_percent": "" if percent is None else f"{percent:f}",
        "version": version,
    }
    return PendingEvent(DEAL_MONEY_CHANGED, f"deal/{money.deal_id}", data, actor=_actor(actor_id))
