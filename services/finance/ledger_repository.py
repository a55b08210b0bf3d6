"""SQL of spends, the payment schedule, deal figures and the margin report."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.access import Scope
from services.finance.domain.money import DealMoney
from services.finance.domain.reports import MarginRow
from services.finance.domain.schedule import Direction, ScheduleEntry
from services.finance.domain.spends import Spend, SpendKind, SpendStatus
from services.finance.repository import visible
from services.finance.tables import (
    deal_money,
    payments,
    schedule_entries,
    schedule_resets,
    spends,
)

_SPEND_STATE = ("status", "decision_comment", "decided_by", "paid_by", "payment_id")


def _spend(row: sa.Row[Any]) -> Spend:
    values = dict(row._mapping)
    values["kind"], values["status"] = SpendKind(row.kind), SpendStatus(row.status)
    values["closing_documents"] = list(row.closing_documents)
    return Spend(**values)


async def insert_spend(conn: AsyncConnection, spend: Spend, now: datetime) -> int:
    values = {k: getattr(spend, k) for k in spends.c.keys() if k != "id"}
    values.update(kind=spend.kind.value, status=spend.status.value, created_at=now, updated_at=now)
    return int(await conn.scalar(spends.insert().values(**values).returning(spends.c.id)))


async def get_spend(
    conn: AsyncConnection, spend_id: int, kind: SpendKind, *, for_update: bool = False
) -> Spend | None:
    query = sa.select(spends).where(spends.c.id == spend_id, spends.c.kind == kind.value)
    row = (await conn.execute(query.with_for_update() if for_update else query)).first()
    return None if row is None else _spend(row)


async def save_spend(conn: AsyncConnection, spend: Spend, now: datetime) -> None:
    values = {k: getattr(spend, k) for k in _SPEND_STATE}
    values["status"] = spend.status.value
    await conn.execute(
        spends.update()
        .where(spends.c.id == spend.id)
        .values(**values, closing_documents=spend.closing_documents, updated_at=now)
    )
    spend.updated_at = now


async def list_spends(
    conn: AsyncConnection,
    kind: SpendKind,
    *,
    scope: Scope | None,
    status: str,
    deal_id: int | None,
    before_id: int | None,
    limit: int,
) -> list[Spend]:
    query = sa.select(spends).where(spends.c.kind == kind.value, visible(spends.c.owner_id, scope))
    if status:
        query = query.where(spends.c.status == status)
    if deal_id is not None:
        query = query.where(spends.c.deal_id == deal_id)
    if before_id is not None:
        query = query.where(spends.c.id < before_id)
    rows = await conn.execute(query.order_by(spends.c.id.desc()).limit(limit))
    return [_spend(r) for r in rows]


# ---- deal figures ----
async def deal_currency(
    conn: AsyncConnection, deal_id: int, currency: str, owner_id: int, now: datetime
) -> str:
    """The currency the deal's money is kept in (the first document's, from then on)."""
    await conn.execute(
        insert(deal_money)
        .values(deal_id=deal_id, currency=currency, owner_id=owner_id, updated_at=now)
        .on_conflict_do_nothing()
    )
    found = await conn.scalar(
        sa.select(deal_money.c.currency).where(deal_money.c.deal_id == deal_id)
    )
    return str(found)


async def add_to_deal(
    conn: AsyncConnection, deal_id: int, *, revenue: Decimal, costs: Decimal, now: datetime
) -> tuple[DealMoney, int]:
    """Add to the deal's figures (the row lock orders concurrent changes); the new figures
    and their version."""
    row = (
        await conn.execute(
            deal_money.update()
            .where(deal_money.c.deal_id == deal_id)
            .values(
                revenue=deal_money.c.revenue + revenue,
                costs=deal_money.c.costs + costs,
                version=deal_money.c.version + 1,
                updated_at=now,
            )
            .returning(deal_money)
        )
    ).one()
    return DealMoney(deal_id, row.currency, row.revenue, row.costs), int(row.version)


# ---- schedule ----
async def put_schedule_entry(conn: AsyncConnection, values: dict[str, Any]) -> None:
    """Add the entry of a document, or refresh its amount, date and state."""
    stmt = insert(schedule_entries).values(**values)
    changing = {k: stmt.excluded[k] for k in ("amount", "due_date", "state", "owner_id")}
    await conn.execute(
        stmt.on_conflict_do_update(constraint="uq_schedule_entries_source", set_=changing)
    )


async def set_schedule_state(
    conn: AsyncConnection, source: str, source_id: int, state: str
) -> None:
    await conn.execute(
        schedule_entries.update()
        .where(schedule_entries.c.source == source, schedule_entries.c.source_id == source_id)
        .values(state=state)
    )


async def last_reset(conn: AsyncConnection) -> int:
    found = await conn.scalar(sa.select(sa.func.max(schedule_resets.c.after_entry_id)))
    return int(found or 0)


async def reset_schedule(conn: AsyncConnection, actor_id: int | None, now: datetime) -> int:
    """Restart the running totals after the newest entry; returns that entry's id."""
    # ids are taken before commit: wait for inserts in flight, so none lands below the mark
    await conn.execute(sa.text("LOCK TABLE finance.schedule_entries IN SHARE MODE"))
    newest = await conn.scalar(sa.select(sa.func.coalesce(sa.func.max(schedule_entries.c.id), 0)))
    newest = int(newest or 0)
    await conn.execute(
        schedule_resets.insert().values(after_entry_id=newest, actor_id=actor_id, created_at=now)
    )
    return newest


async def schedule(
    conn: AsyncConnection,
    *,
    scope: Scope | None,
    date_from: date | None,
    date_to: date | None,
    after_entry_id: int,
) -> list[ScheduleEntry]:
    """Entries due in the period, by due date, each with its running total in creation
    order (per currency and direction, over the entries the caller sees)."""
    e = schedule_entries.c
    counts = sa.and_(e.id > after_entry_id, e.state != "cancelled")
    running = sa.func.sum(sa.case((counts, e.amount), else_=0)).over(
        partition_by=(e.currency, e.direction), order_by=e.id
    )
    inner = (
        sa.select(schedule_entries, running.label("running_total"))
        .where(visible(e.owner_id, scope))
        .subquery()
    )
    query = sa.select(inner)
    if date_from:
        query = query.where(inner.c.due_date >= date_from)
    if date_to:
        query = query.where(inner.c.due_date <= date_to)
    rows = await conn.execute(query.order_by(inner.c.due_date, inner.c.id))
    return [
        ScheduleEntry(
            id=r.id,
            source=r.source,
            source_id=r.source_id,
            direction=Direction(r.direction),
            amount=r.amount,
            currency=r.currency,
            due_date=r.due_date,
            owner_id=r.owner_id,
            state=r.state,
            running_total=r.running_total,
        )
        for r in rows
    ]


# ---- reports ----
async def margin(
    conn: AsyncConnection, *, scope: Scope | None, date_from: date, date_to: date
) -> list[MarginRow]:
    """Revenue and costs recorded in the period, per owner (manager) and currency."""
    p = payments.c
    rows = await conn.execute(
        sa.select(
            p.owner_id,
            p.currency,
            sa.func.sum(p.revenue_delta).label("revenue"),
            sa.func.sum(p.cost_delta).label("costs"),
            sa.func.count(sa.distinct(p.deal_id)).label("deals"),
        )
        .where(visible(p.owner_id, scope), p.paid_on >= date_from, p.paid_on <= date_to)
        .group_by(p.owner_id, p.currency)
        .order_by(p.owner_id, p.currency)
    )
    return [MarginRow(r.owner_id, r.currency, r.revenue, r.costs, r.deals) for r in rows]
