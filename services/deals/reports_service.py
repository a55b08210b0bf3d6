"""Reports over the deals and their stage history: the funnel and its drill-down, manager
activity, time in stage per deal. Each counts only the deals the caller sees."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common.errors import FieldProblem, ValidationFailed
from services.common.pagination import Page, decode_cursor
from services.deals import funnel_cells, repository
from services.deals import reports_repository as reports
from services.deals.access_service import AccessService
from services.deals.domain.deals import Deal
from services.deals.domain.funnel import Funnel, Outcome, Tally, assemble, next_stages
from services.deals.domain.pipelines import Pipeline, Semantic
from services.deals.pipeline_service import pipeline_of
from services.deals.reports_repository import Scope
from services.deals.repository import DealFilter


@dataclass
class ManagerRow:
    manager_id: int
    created: int = 0
    won: Tally = field(default_factory=Tally)
    lost: Tally = field(default_factory=Tally)
    average_cycle_seconds: float | None = None


@dataclass(frozen=True)
class StageTime:
    stage_id: int
    seconds: float
    visits: int


@dataclass(frozen=True)
class DealTimes:
    deal_id: int
    title: str
    responsible_id: int
    stages: list[StageTime]


class ReportsService:
    def __init__(
        self, engine: AsyncEngine, access: AccessService, *, clock: Callable[[], datetime]
    ) -> None:
        self._engine = engine
        self._access = access
        self._now = clock

    async def _scoped(self, conn: AsyncConnection, actor_id: int | None, scope: Scope) -> Scope:
        """The scope narrowed to what the actor sees (a head: the department's deals)."""
        if actor_id is None:
            return scope
        guard = await self._access.cache.get(conn, actor_id)
        return replace(scope, visible=guard.visible())

    async def funnel(self, *, actor_id: int | None, pipeline_id: int, scope: Scope) -> Funnel:
        """Per stage: the deals that passed it in the period and where they went."""
        async with self._engine.connect() as conn:
            # one snapshot: the cells' statements add up to the same moment
            await conn.execution_options(isolation_level="REPEATABLE READ")
            pipeline = await pipeline_of(conn, pipeline_id)
            scope = await self._scoped(conn, actor_id, scope)
            ids = [s.id for s in pipeline.stages]
            lost_ids = [s.id for s in pipeline.stages if s.semantic is Semantic.LOST]
            groups = (
                funnel_cells.funnel_groups if funnel_cells.usable(scope) else reports.funnel_groups
            )
            last, passes, lost = await groups(conn, ids, lost_ids, scope)
        return assemble(pipeline, scope.period, last, passes, lost)

    async def funnel_deals(
        self,
        *,
        actor_id: int | None,
        pipeline_id: int,
        scope: Scope,
        stage_id: int,
        outcome: str,
        cursor: str,
        limit: int,
    ) -> Page[Deal]:
        """The deals behind one count of the funnel, newest first."""
        before = decode_cursor(cursor) if cursor else None
        async with self._engine.connect() as conn:
            pipeline = await pipeline_of(conn, pipeline_id)
            scope = await self._scoped(conn, actor_id, scope)
            among = _drill_down(pipeline, scope, stage_id, outcome)
            where = DealFilter(visible=scope.visible, among=among)
            rows = await repository.list_deals(conn, where, before_id=before, limit=limit + 1)
        return Page.of(rows, limit, key=lambda d: d.id)

    async def manager_activity(
        self, *, actor_id: int | None, pipeline_id: int | None, scope: Scope
    ) -> list[ManagerRow]:
        """Per manager: deals created, won and lost in the period, and the average cycle."""
        async with self._engine.connect() as conn:
            if pipeline_id is not None:
                await pipeline_of(conn, pipeline_id)
            scope = await self._scoped(conn, actor_id, scope)
            created = await reports.created_per_manager(conn, scope, pipeline_id)
            closed, cycles = await reports.closed_per_manager(conn, scope, pipeline_id)
        rows: dict[int, ManagerRow] = {}

        def row(manager_id: int) -> ManagerRow:
            return rows.setdefault(manager_id, ManagerRow(manager_id))

        for manager_id, count in created.items():
            row(manager_id).created = count
        for g in closed:
            tally = row(g.manager_id).won if g.semantic == "won" else row(g.manager_id).lost
            tally.add(g.deals, g.currency, g.amount)
        for manager_id, seconds in cycles.items():
            row(manager_id).average_cycle_seconds = seconds
        return [rows[k] for k in sorted(rows)]

    async def time_in_stage(
        self, *, actor_id: int | None, pipeline_id: int, scope: Scope, cursor: str, limit: int
    ) -> Page[DealTimes]:
        """Per deal with a pass in the period: the time spent in each stage, all visits."""
        before = decode_cursor(cursor) if cursor else None
        async with self._engine.connect() as conn:
            pipeline = await pipeline_of(conn, pipeline_id)
            scope = await self._scoped(conn, actor_id, scope)
            ids = [s.id for s in pipeline.stages]
            found = await reports.deals_with_passes(
                conn, ids, scope, before_id=before, limit=limit + 1
            )
            page = found[:limit]
            times = await reports.stage_times(conn, [r.id for r in page], ids, self._now())
        per_deal: dict[int, list[StageTime]] = defaultdict(list)
        for t in times:
            per_deal[t[0]].append(StageTime(t[1], float(t[2]), t[3]))
        order = {s.id: s.position for s in pipeline.stages}
        items = [
            DealTimes(r.id, r.title, r.responsible_id, sorted(per_deal[r.id], key=_by(order)))
            for r in found
        ]
        return Page.of(items, limit, key=lambda t: t.deal_id)


def _by(order: dict[int, int]) -> Callable[[StageTime], int]:
    return lambda t: order[t.stage_id]


def _drill_down(pipeline: Pipeline, scope: Scope, stage_id: int, outcome: str) -> sa.Select[Any]:
    stage = pipeline.stage(stage_id, field_name="funnel_stage_id")
    try:
        wanted = Outcome(outcome or Outcome.ENTERED)
    except ValueError as exc:
        choices = ", ".join(o.value for o in Outcome)
        raise ValidationFailed(FieldProblem("funnel_outcome", f"one of {choices}")) from exc
    ids = [s.id for s in pipeline.stages]
    if wanted is Outcome.ENTERED:
        return reports.drill_down(
            ids, scope, stage_id=stage.id, next_stage_ids=None, open_pass=False
        )
    if wanted is Outcome.MOVED_OUT:
        return reports.moved_out(ids, scope, stage_id=stage.id)
    following, open_pass = next_stages(pipeline, stage, wanted)
    return reports.drill_down(
        ids, scope, stage_id=stage.id, next_stage_ids=following, open_pass=open_pass
    )
