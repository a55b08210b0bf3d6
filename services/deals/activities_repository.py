"""Rows of activities and reminder plans (services/deals/activities_tables.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.deals.activities_tables import activities, reminder_plans
from services.deals.domain.activities import DONE, PLANNED, Activity


def _activity(row: sa.Row[Any]) -> Activity:
    return Activity(
        id=row.id,
        kind=row.kind,
        status=row.status,
        deal_id=row.deal_id,
        lead_id=row.lead_id,
        contact_id=row.contact_id,
        assignee_id=row.assignee_id,
        due_at=row.due_at,
        done_at=row.done_at,
        subject=row.subject,
        outcome=row.outcome,
        notes=row.notes,
        plan_id=row.plan_id,
        created_by=row.created_by,
        created_at=row.created_at,
    )


async def insert_activity(conn: AsyncConnection, values: Mapping[str, Any]) -> Activity | None:
    """The new activity, or None when one with its idempotency key exists."""
    query = (
        insert(activities)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[activities.c.idempotency_key])
        .returning(activities)
    )
    row = (await conn.execute(query)).first()
    return _activity(row) if row else None


async def activity_by_key(conn: AsyncConnection, key: str) -> Activity | None:
    query = sa.select(activities).where(activities.c.idempotency_key == key)
    row = (await conn.execute(query)).first()
    return _activity(row) if row else None


async def get_activity(
    conn: AsyncConnection, activity_id: int, *, for_update: bool = False
) -> Activity | None:
    query = sa.select(activities).where(activities.c.id == activity_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return _activity(row) if row else None


async def mark_done(
    conn: AsyncConnection, activity_id: int, *, at: datetime, outcome: str, notes: str
) -> Activity:
    query = (
        activities.update()
        .where(activities.c.id == activity_id)
        .values(status=DONE, done_at=at, outcome=outcome, notes=notes)
        .returning(activities)
    )
    return _activity((await conn.execute(query)).one())


async def list_activities(
    conn: AsyncConnection, where: Mapping[str, Any], *, status: str, limit: int
) -> list[Activity]:
    """Planned ones first by due time, then done ones newest first."""
    query = sa.select(activities).limit(limit)
    for name, value in where.items():
        query = query.where(activities.c[name] == value)
    if status:
        query = query.where(activities.c.status == status)
    query = query.order_by(
        (activities.c.status == DONE).asc(),
        activities.c.due_at.asc().nulls_last(),
        activities.c.done_at.desc().nulls_last(),
        activities.c.id.desc(),
    )
    return [_activity(r) for r in (await conn.execute(query)).all()]


async def next_of_deals(conn: AsyncConnection, deal_ids: list[int]) -> dict[int, Activity]:
    """Each deal's earliest planned activity (deals with none are left out)."""
    if not deal_ids:
        return {}
    query = (
        sa.select(activities)
        .ext(distinct_on(activities.c.deal_id))
        .where(activities.c.deal_id.in_(deal_ids), activities.c.status == PLANNED)
        .order_by(activities.c.deal_id, activities.c.due_at, activities.c.id)
    )
    return {r.deal_id: _activity(r) for r in (await conn.execute(query)).all()}


# ---- reminder plans ----
async def insert_plan(conn: AsyncConnection, values: Mapping[str, Any]) -> sa.Row[Any] | None:
    query = (
        insert(reminder_plans)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[reminder_plans.c.idempotency_key])
        .returning(reminder_plans)
    )
    row: sa.Row[Any] | None = (await conn.execute(query)).first()
    return row


async def plan_by_key(conn: AsyncConnection, key: str) -> sa.Row[Any] | None:
    query = sa.select(reminder_plans).where(reminder_plans.c.idempotency_key == key)
    return (await conn.execute(query)).first()


async def get_plan(
    conn: AsyncConnection, plan_id: int, *, for_update: bool = False
) -> sa.Row[Any] | None:
    query = sa.select(reminder_plans).where(reminder_plans.c.id == plan_id)
    if for_update:
        query = query.with_for_update()
    return (await conn.execute(query)).first()


async def save_plan(conn: AsyncConnection, plan_id: int, values: Mapping[str, Any]) -> sa.Row[Any]:
    query = (
        reminder_plans.update()
        .where(reminder_plans.c.id == plan_id)
        .values(**values, version=reminder_plans.c.version + 1)
        .returning(reminder_plans)
    )
    row: sa.Row[Any] = (await conn.execute(query)).one()
    return row


async def list_plans(conn: AsyncConnection, where: Mapping[str, Any]) -> list[sa.Row[Any]]:
    query = sa.select(reminder_plans).order_by(reminder_plans.c.id)
    for name, value in where.items():
        query = query.where(reminder_plans.c[name] == value)
    return list((await conn.execute(query)).all())


async def active_plan_ids(conn: AsyncConnection, *, record: str, record_id: int) -> list[int]:
    """The active plans on a deal or a contact (a done activity there restarts a clock)."""
    if record not in ("deal", "contact"):
        return []
    column = reminder_plans.c[f"{record}_id"]
    query = sa.select(reminder_plans.c.id).where(
        column == record_id, reminder_plans.c.status == "active"
    )
    return [r.id for r in (await conn.execute(query)).all()]


async def channel_anchors(
    conn: AsyncConnection, plan: sa.Row[Any]
) -> dict[str, tuple[datetime | None, datetime | None]]:
    """{kind: (last done at on the plan's record, due time of the plan's last reminder)}."""
    column = activities.c.deal_id if plan.deal_id is not None else activities.c.contact_id
    record_id = plan.deal_id if plan.deal_id is not None else plan.contact_id
    done = (
        sa.select(activities.c.kind, sa.func.max(activities.c.done_at).label("at"))
        .where(column == record_id, activities.c.status == DONE)
        .group_by(activities.c.kind)
    )
    made = (
        sa.select(activities.c.kind, sa.func.max(activities.c.due_at).label("at"))
        .where(activities.c.plan_id == plan.id)
        .group_by(activities.c.kind)
    )
    found: dict[str, list[datetime | None]] = {}
    for row in (await conn.execute(done)).all():
        found.setdefault(row.kind, [None, None])[0] = row.at
    for row in (await conn.execute(made)).all():
        found.setdefault(row.kind, [None, None])[1] = row.at
    return {kind: (pair[0], pair[1]) for kind, pair in found.items()}
