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
# One statement (one round trip) for both halves of a visit change. The CTE's UPDATE and
# the INSERT see the same snapshot, so the new visit is never one of those updated: the
# open visit is closed, noting where it led, and the deal's last visit to the stage it
# enters notes the re-entry (they may be one row).
_AT = sa.bindparam("b_at", type_=stage_history.c.entered_at.type)
_STAGE = sa.bindparam("b_stage", type_=stage_history.c.stage_id.type)
_DEAL = sa.bindparam("b_deal", type_=stage_history.c.deal_id.type)
_OPEN = stage_history.c.left_at.is_(None)
_VISITED = sa.and_(stage_history.c.stage_id == _STAGE, stage_history.c.reentered_at.is_(None))
END_VISITS = (
    stage_history.update()
    .where(stage_history.c.deal_id == _DEAL, sa.or_(_OPEN, _VISITED))
    .values(
        left_at=sa.case((_OPEN, _AT), else_=stage_history.c.left_at),
        next_stage_id=sa.case((_OPEN, _STAGE), else_=stage_history.c.next_stage_id),
        reentered_at=sa.case((_VISITED, _AT), else_=stage_history.c.reentered_at),
    )
    .returning(stage_history.c.id)
    .cte("ended")
)
_ENTER_STAGE = (
    stage_history.insert()
    .values(
        deal_id=_DEAL,
        stage_id=_STAGE,
        entered_at=_AT,
        actor_id=sa.bindparam("b_actor", type_=stage_history.c.actor_id.type),
        responsible_id=sa.select(deals.c.responsible_id)
        .where(deals.c.id == _DEAL)
        .scalar_subquery(),
    )
    .add_cte(END_VISITS)
)


async def enter_stage(
    conn: AsyncConnection, *, deal_id: int, stage_id: int, at: datetime, actor_id: int | None
) -> None:
    """Close the open visit of the deal (if any), noting where it led, note the re-entry on
    the deal's last visit to `stage_id` (if any), and open one there, with the deal's
    responsible."""
    await conn.execute(
        _ENTER_STAGE, visit_bindings(deal_id=deal_id, stage_id=stage_id, at=at, actor_id=actor_id)
    )


def visit_bindings(
    *, deal_id: int, stage_id: int, at: datetime, actor_id: int | None
) -> dict[str, Any]:
    """The parameters of `END_VISITS` and of the visit it opens."""
    return {"b_deal": deal_id, "b_stage": stage_id, "b_at": at, "b_actor": actor_id}


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


def _deal_timeline(*, below: bool) -> sa.Select[Any]:
    """The deal's pipeline and responsible (whom it is visible to) with a page of its
    entries, newest first (with `below`: those below an id), in one statement: no row when
    the deal does not exist, one row of null entry columns when it has no entries."""
    entries = (
        sa.select(timeline)
        .where(timeline.c.deal_id == deals.c.id)
        .order_by(timeline.c.id.desc())
        .limit(sa.bindparam("b_limit", type_=sa.Integer))
    )
    if below:
        entries = entries.where(timeline.c.id < sa.bindparam("b_before", type_=timeline.c.id.type))
    page = entries.lateral("entries")
    return (
        sa.select(
            deals.c.pipeline_id.label("deal_pipeline_id"),
            deals.c.responsible_id.label("deal_responsible_id"),
            page,
        )
        .select_from(deals.outerjoin(page, sa.true()))
        .where(deals.c.id == sa.bindparam("b_deal", type_=deals.c.id.type))
        .order_by(page.c.id.desc())
    )


_DEAL_TIMELINE = {below: _deal_timeline(below=below) for below in (False, True)}


async def deal_timeline(
    conn: AsyncConnection, deal_id: int, *, before_id: int | None, limit: int
) -> tuple[tuple[int, int] | None, list[TimelineEntry]]:
    """((the deal's pipeline id, its responsible's id), `limit` of its entries below
    `before_id`, newest first), or (None, []) when there is no such deal."""
    params: dict[str, Any] = {"b_deal": deal_id, "b_limit": limit}
    if before_id is not None:
        params["b_before"] = before_id
    rows = (await conn.execute(_DEAL_TIMELINE[before_id is not None], params)).all()
    if not rows:
        return None, []
    owner = (rows[0].deal_pipeline_id, rows[0].deal_responsible_id)
    return owner, [_entry(r) for r in rows if r.id is not None]


def _entry(row: sa.Row[Any]) -> TimelineEntry:
    return TimelineEntry(
        row.id, row.deal_id, row.kind, row.text, row.actor_id, dict(row.data), row.created_at
    )
