"""What the leadership alerts (SN-9) read, and when they are due: the open deals with
their last and next activities, who heads each manager, what is left in the first stage
of every pipeline and lead funnel, and the next digest and end-of-day times on the company
calendar. The rules: services/deals/domain/alerts.py. The worker's alerts workflow sends
the notifications (each with the key it is given here)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.errors import FieldProblem, NotFound, ValidationFailed
from services.deals import org_repository
from services.deals.activities_tables import activities
from services.deals.automation_service import load_calendar
from services.deals.domain import alerts
from services.deals.domain.activities import DONE, PLANNED
from services.deals.tables import deals, leads, pipelines, stages

if TYPE_CHECKING:
    from services.deals.service import DealsService

CHECKS = ("digest", "unplanned", "first_stage")


class AlertsService:
    def __init__(self, deals_service: DealsService) -> None:
        self._deals = deals_service
        self._engine = deals_service.engine

    async def check(
        self, *, check: str, now: datetime, stale_days: int, grace_hours: int
    ) -> list[dict[str, Any]]:
        """The notifications the check owes at `now` (their keys make a repeat harmless)."""
        if check not in CHECKS:
            raise ValidationFailed(FieldProblem("check", f"must be one of {', '.join(CHECKS)}"))
        async with self._engine.connect() as conn:
            calendar, _ = await load_calendar(conn)
            day = alerts.local_day(now, calendar)
            if check == "first_stage":
                records = await _first_stage_records(conn)
                heads = await self._heads({r.responsible_id for r in records})
                found = alerts.first_stage(records, heads=heads, day=day)
                return [a.view() for a in found]
            open_deals = await _open_deals(conn)
            heads = await self._heads({d.responsible_id for d in open_deals})
            if check == "unplanned":
                grace = timedelta(hours=grace_hours)
                found = alerts.unplanned(open_deals, heads=heads, now=now, grace=grace)
                return [a.view() for a in found]
            names = await _names(conn, {d.responsible_id for d in open_deals})
        found = alerts.digest(
            open_deals, heads=heads, names=names, now=now, stale_days=stale_days, day=day
        )
        return [a.view() for a in found]

    async def times(self, *, now: datetime, digest_at: str) -> tuple[datetime, datetime]:
        """When the next digest and the next end-of-day check are due after `now`."""
        async with self._engine.connect() as conn:
            calendar, _ = await load_calendar(conn)
        try:
            digest = alerts.next_working_time(now, calendar, digest_at or "09:00")
        except ValueError:
            raise ValidationFailed(FieldProblem("digest_at", "must be HH:MM")) from None
        return digest, alerts.next_working_time(now, calendar, calendar.work_end)

    async def first_stage(self, *, actor_id: int | None) -> list[dict[str, Any]]:
        """Per pipeline (and lead funnel), its first stage and what is in it, as far as the
        actor sees; pipelines whose first stage is empty are listed with no records."""
        async with self._engine.connect() as conn:
            guard = None if actor_id is None else await self._deals.access.cache.get(conn, actor_id)
            firsts = await _first_stages(conn)
            records = await _first_stage_records(conn)
        out: dict[int, dict[str, Any]] = {}
        for pipeline_id, kind, pipeline, stage_id, stage in firsts:
            out[stage_id] = {
                "pipeline_id": str(pipeline_id),
                "pipeline": pipeline,
                "kind": kind,
                "stage_id": str(stage_id),
                "stage": stage,
                "records": [],
            }
        for r in records:
            entry = out[r.stage_id]
            if guard is None or guard.sees(
                pipeline_id=int(entry["pipeline_id"]), responsible_id=r.responsible_id
            ):
                entry["records"].append(
                    {
                        "record": r.record,
                        "id": str(r.id),
                        "title": r.title,
                        "responsible_id": str(r.responsible_id),
                    }
                )
        return list(out.values())

    async def _heads(self, user_ids: set[int]) -> dict[int, int]:
        """Who heads each user (org: the department chain, then a head of sales)."""
        heads: dict[int, int] = {}
        for user_id in user_ids:
            try:
                heads[user_id] = (await self._deals.org.find_head(user_id=user_id)).id
            except NotFound:
                continue
        return heads


async def _names(conn: AsyncConnection, user_ids: set[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for user_id in user_ids:
        user = await org_repository.get_user(conn, user_id)
        if user is not None:
            names[user_id] = user.name
    return names


async def _open_deals(conn: AsyncConnection) -> list[alerts.OpenDeal]:
    """Deals in an in-progress stage, with their last done and next planned activity."""
    last_done = (
        sa.select(sa.func.max(activities.c.done_at))
        .where(activities.c.deal_id == deals.c.id, activities.c.status == DONE)
        .scalar_subquery()
    )
    next_due = (
        sa.select(sa.func.min(activities.c.due_at))
        .where(activities.c.deal_id == deals.c.id, activities.c.status == PLANNED)
        .scalar_subquery()
    )
    query = (
        sa.select(
            deals.c.id,
            deals.c.title,
            deals.c.company_name,
            deals.c.contact_name,
            deals.c.responsible_id,
            deals.c.created_at,
            last_done.label("last_done"),
            next_due.label("next_due"),
        )
        .join(stages, stages.c.id == deals.c.stage_id)
        .where(stages.c.semantic == "in_progress")
        .order_by(deals.c.id)
    )
    return [
        alerts.OpenDeal(
            id=r.id,
            title=r.title,
            client=r.company_name or r.contact_name,
            responsible_id=r.responsible_id,
            created_at=r.created_at,
            last_done=r.last_done,
            next_due=r.next_due,
        )
        for r in (await conn.execute(query)).all()
    ]


async def _first_stages(conn: AsyncConnection) -> list[tuple[int, str, str, int, str]]:
    """(pipeline id, kind, name, first stage id, its name) of every pipeline."""
    query = (
        sa.select(pipelines.c.id, pipelines.c.kind, pipelines.c.name, stages.c.id, stages.c.name)
        .join(stages, stages.c.pipeline_id == pipelines.c.id)
        .distinct(pipelines.c.id)
        .order_by(pipelines.c.id, stages.c.position, stages.c.id)
    )
    return [tuple(r) for r in (await conn.execute(query)).all()]


async def _first_stage_records(conn: AsyncConnection) -> list[alerts.StageRecord]:
    firsts = await _first_stages(conn)
    names = {stage_id: (pipeline, stage) for _, _, pipeline, stage_id, stage in firsts}
    if not names:
        return []
    found: list[alerts.StageRecord] = []
    for record, table in (("deal", deals), ("lead", leads)):
        query = (
            sa.select(table.c.id, table.c.title, table.c.stage_id, table.c.responsible_id)
            .where(table.c.stage_id.in_(list(names)))
            .order_by(table.c.id)
        )
        if record == "lead":
            query = query.where(table.c.deal_id.is_(None))
        for r in (await conn.execute(query)).all():
            pipeline, stage = names[r.stage_id]
            found.append(
                alerts.StageRecord(
                    record, r.id, r.title, pipeline, stage, r.responsible_id, r.stage_id
                )
            )
    return found
