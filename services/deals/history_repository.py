"""Stage history and timeline rows <-> domain objects (SQLAlchemy Core)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.deals.domain.history import StageVisit, TimelineEntry
from services.deals.tables import deals, stage_history, timeline


# ---- stage history ----
async def enter_stage(
    conn: AsyncConnection, *, deal_id: int, stage_id: int, at: datetime, actor_id: int | None
) -> None:
    """Close the open visit of the deal (if any), noting where it led, note the re-entry on
    the deal's last visit to `stage_id` (if any), and open one there. One statement for
    both rows (they may be one)."""
    open_visit = stage_history.c.left_at.is_(None)
    visited = sa.and_(stage_history.c.stage_id == stage_id, stage_history.c.reentered_at.is_(None))
    await conn.execute(
        stage_history.update()
        .where(stage_history.c.deal_id == deal_id, sa.or_(open_visit, visited))
        .values(
            left_at=sa.case((open_visit, at), else_=stage_history.c.left_at),
            next_stage_id=sa.case((open_visit, stage_id), else_=stage_history.c.next_stage_id),
            reentered_at=sa.case((visited, at), else_=stage_history.c.reentered_at),
        )
    )
    responsible = sa.select(deals.c.responsible_id).where(deals.c.id == deal_id)
    await conn.execute(
        stage_history.insert().values(
            deal_id=deal_id,
            stage_id=stage_id,
            entered_at=at,
            actor_id=actor_id,
            responsible_id=responsible.scalar_subquery(),
        )
    )


async def stage_visits(conn: AsyncConnection, deal_id: int) -> list[StageVisit]:
    query = (
        sa.select(stage_history)
        .where(stage_history.c.deal_id == deal_id)
        .order_by(stage_history.c.id)
    )
    return [
        StageVisit(r.stage_id, r.entered_at, r.left_at, r.actor_id)
        for r in (await conn.execute(query)).all()
    ]


# ---- timeline ----
async def add_entry(
    conn: AsyncConnection,
    *,
    deal_id: int,
    kind: str,
    text: str,
    actor_id: int | None,
    data: dict[str, Any],
    at: datetime,
    idempotency_key: str | None = None,
) -> TimelineEntry | None:
    """The new entry, or None when an entry with that idempotency key exists."""
    row = (
        await conn.execute(
            insert(timeline)
            .values(
                deal_id=deal_id,
                kind=kind,
                text=text,
                actor_id=actor_id,
                data=data,
                created_at=at,
                idempotency_key=idempotency_key,
            )
            .on_conflict_do_nothing(index_elements=[timeline.c.idempotency_key])
            .returning(timeline)
        )
    ).first()
    return _entry(row) if row else None


async def entry_by_key(conn: AsyncConnection, idempotency_key: str) -> TimelineEntry | None:
    query = sa.select(timeline).where(timeline.c.idempotency_key == idempotency_key)
    row = (await conn.execute(query)).first()
    return _entry(row) if row else None


async def list_entries(
    conn: AsyncConnection, deal_id: int, *, before_id: int | None, limit: int
) -> list[TimelineEntry]:
    query = (
        sa.select(timeline)
        .where(timeline.c.deal_id == deal_id)
        .order_by(timeline.c.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(timeline.c.id < before_id)
    return [_entry(r) for r in (await conn.execute(query)).all()]


def _entry(row: sa.Row[Any]) -> TimelineEntry:
    return TimelineEntry(
        row.id, row.deal_id, row.kind, row.text, row.actor_id, dict(row.data), row.created_at
    )
