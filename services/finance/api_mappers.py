"""proto <-> domain conversions of the finance service."""

from __future__ import annotations

from datetime import date, datetime

from dealflow.finance.v1 import finance_pb2 as pb

from services.common.errors import FieldProblem, ValidationFailed
from services.finance.domain.amounts import money_str
from services.finance.domain.invoices import Invoice
from services.finance.domain.money import DealMoney
from services.finance.domain.payments import Payment
from services.finance.domain.reports import MarginRow
from services.finance.domain.schedule import ScheduleEntry
from services.finance.domain.spends import Spend, SpendKind


def opt_date(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(FieldProblem(field, "must be a date YYYY-MM-DD")) from None


def spend_kind(value: str) -> SpendKind:
    try:
        return SpendKind(value)
    except ValueError:
        raise ValidationFailed(
            FieldProblem("kind", "must be supplier_payment or expense")
        ) from None


def lines_in(lines: list[pb.InvoiceLine]) -> list[tuple[str, str, str]]:
    return [(ln.description, ln.quantity, ln.unit_price) for ln in lines]


def _s(value: int | None) -> str:
    return "" if value is None else str(value)


def _d(value: date | datetime | None) -> str:
    return "" if value is None else value.isoformat()


def invoice_pb(inv: Invoice) -> pb.Invoice:
    cur = inv.currency
    return pb.Invoice(
        id=str(inv.id),
        deal_id=_s(inv.deal_id),
        owner_id=str(inv.owner_id),
        requested_by=_s(inv.requested_by),
        counterparty=inv.counterparty,
        currency=cur,
        status=inv.status.value,
        lines=[
            pb.InvoiceLine(
                description=ln.description,
                quantity=f"{ln.quantity.normalize():f}",
                unit_price=money_str(ln.unit_price, cur),
                amount=money_str(ln.amount, cur),
            )
            for ln in inv.lines
        ],
        total=money_str(inv.total, cur),
        paid=money_str(inv.paid, cur),
        balance=money_str(inv.balance, cur),
        overpaid=money_str(inv.overpaid, cur),
        number=inv.number,
        due_date=_d(inv.due_date),
        file=inv.file_ref,
        comment=inv.comment,
        issued_by=_s(inv.issued_by),
        created_at=_d(inv.created_at),
        issued_at=_d(inv.issued_at),
        version=inv.version,
    )


def payment_pb(p: Payment) -> pb.Payment:
    return pb.Payment(
        id=str(p.id),
        direction=p.direction,
        kind=p.kind.value,
        invoice_id=_s(p.invoice_id),
        spend_id=_s(p.spend_id),
        deal_id=_s(p.deal_id),
        owner_id=str(p.owner_id),
        counterparty=p.counterparty,
        amount=money_str(p.amount, p.currency),
        currency=p.currency,
        paid_on=_d(p.paid_on),
        reference=p.reference,
        recorded_by=_s(p.recorded_by),
        overpayment=money_str(p.overpayment, p.currency),
        created_at=_d(p.created_at),
    )


def spend_pb(s: Spend) -> pb.Spend:
    return pb.Spend(
        id=str(s.id),
        kind=s.kind.value,
        owner_id=str(s.owner_id),
        author_id=_s(s.author_id),
        deal_id=_s(s.deal_id),
        counterparty=s.counterparty,
        purpose=s.purpose,
        amount=money_str(s.amount, s.currency),
        currency=s.currency,
        due_date=_d(s.due_date),
        status=s.status.value,
        decision_comment=s.decision_comment,
        decided_by=_s(s.decided_by),
        paid_by=_s(s.paid_by),
        payment_id=_s(s.payment_id),
        closing_documents=s.closing_documents,
        created_at=_d(s.created_at),
        updated_at=_d(s.updated_at),
    )


def money_pb(money: DealMoney) -> pb.DealMoney:
    percent = money.profit_percent
    cur = money.currency
    return pb.DealMoney(
        deal_id=str(money.deal_id),
        currency=cur,
        revenue=money_str(money.revenue, cur),
        costs=money_str(money.costs, cur),
        profit=money_str(money.profit, cur),
        profit_percent="" if percent is None else f"{percent:f}",
    )


def entry_pb(e: ScheduleEntry) -> pb.ScheduleEntry:
    return pb.ScheduleEntry(
        id=str(e.id),
        source=e.source,
        source_id=str(e.source_id),
        direction=e.direction.value,
        amount=money_str(e.amount, e.currency),
        currency=e.currency,
        due_date=_d(e.due_date),
        owner_id=str(e.owner_id),
        state=e.state,
        running_total=money_str(e.running_total, e.currency),
    )


def margin_pb(row: MarginRow) -> pb.MarginRow:
    figures = money_pb(row.figures)
    return pb.MarginRow(
        manager_id=str(row.manager_id),
        currency=row.currency,
        revenue=figures.revenue,
        costs=figures.costs,
        profit=figures.profit,
        profit_percent=figures.profit_percent,
        deals=row.deals,
    )
