"""The reports' SQL over the stage history: it selects and groups the passes; the rules that
turn the groups into a report are in services/deals/domain/funnel.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncConnection

from services.deals.domain.funnel import LastPasses, LostMonth, Period, StagePasses
from services.deals.domain.roles import Visible
from services.deals.repository import visible_condition
from services.deals.tables import deals, stage_history, stages, users

h, d = stage_history, deals


@dataclass(frozen=True)
class Scope:
    """Whose deals a report counts, and when their passes began."""

    period: Period
    manager_id: int | None = None
    department_id: int | None = None
    visible: Visible | None = None  # None: every deal (an internal caller)

    def owners(self, responsible: sa.ColumnElement[Any]) -> list[sa.ColumnElement[bool]]:
        """Conditions on a responsible column (a deal's, a history row's, a funnel cell's):
        the manager, the department, and whose deals the caller sees when that goes by
        owner alone (per-pipeline visibility needs the deal: `needs_deals`)."""
        found: list[sa.ColumnElement[bool]] = []
        if self.manager_id is not None:
            found.append(responsible == self.manager_id)
        if self.department_id is not None:
            members = sa.select(users.c.id).where(users.c.department_id == self.department_id)
            found.append(responsible.in_(members))
        seen = self.visible
        if seen is not None and not seen.pipelines and seen.default is not None:
            found.append(responsible.in_(sorted(seen.default)))
        return found

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        """Conditions on the deals table."""
        found = self.owners(d.c.responsible_id)
        if self.visible is not None:
            found.append(visible_condition(self.visible))
        return found

    def needs_deals(self) -> bool:
        """Whether the deals table must be read to tell whose deal it is: only visibility
        ruled per pipeline (which goes by the deal's pipeline); owners alone are on the
        history rows."""
        return self.visible is not None and bool(self.visible.pipelines)

    def history_conditions(self) -> list[sa.ColumnElement[bool]]:
        """The same owners on the history rows' copy of the responsible (kept in step by a
        trigger), so a manager's or a department's report reads only their rows by index."""
        return self.owners(h.c.responsible_id)


def passes(
    stage_ids: Sequence[int], scope: Scope, *, money: bool = False, last: bool = False
) -> sa.CTE:
    """The passes through those stages begun in the period (with their deal's money, or
    only each deal's last pass of the period through each stage, when asked)."""
    columns: list[Any] = [
        h.c.id,
        h.c.deal_id,
        h.c.stage_id,
        h.c.entered_at,
        h.c.left_at,
        h.c.next_stage_id,
    ]
    conditions = [
        h.c.stage_id.in_(list(stage_ids)),
        h.c.entered_at >= scope.period.start,
        h.c.entered_at < scope.period.end,
        *scope.history_conditions(),
    ]
    if last:  # the deal does not enter the stage again within the period
        ended = scope.period.end
        conditions.append(sa.or_(h.c.reentered_at.is_(None), h.c.reentered_at >= ended))
    deal_side = scope.needs_deals()
    if money or last or deal_side:
        columns += [d.c.amount, d.c.currency]
        query = sa.select(*columns).join(d, d.c.id == h.c.deal_id)
        conditions += scope.conditions() if deal_side else []
    else:
        query = sa.select(*columns)
    return query.where(*conditions).cte("last_passes" if last else "passes")


def drill_down(
    stage_ids: Sequence[int],
    scope: Scope,
    *,
    stage_id: int,
    next_stage_ids: Sequence[int] | None,
    open_pass: bool,
) -> sa.Select[Any]:
    """Ids of the deals whose last pass through `stage_id` led to one of `next_stage_ids`
    (None: anywhere), or is still open when `open_pass`."""
    last = passes(stage_ids, scope, last=True)
    query = sa.select(last.c.deal_id).where(last.c.stage_id == stage_id)
    if next_stage_ids is not None:
        led = last.c.next_stage_id.in_(list(next_stage_ids))
        query = query.where(sa.or_(led, last.c.next_stage_id.is_(None)) if open_pass else led)
    return query


def moved_out(stage_ids: Sequence[int], scope: Scope, *, stage_id: int) -> sa.Select[Any]:
    """Ids of the deals whose last pass through `stage_id` led out of the pipeline."""
    last = passes(stage_ids, scope, last=True)
    return sa.select(last.c.deal_id).where(
        last.c.stage_id == stage_id,
        last.c.next_stage_id.is_not(None),
        last.c.next_stage_id.not_in(list(stage_ids)),
    )


def funnel_queries(
    stage_ids: Sequence[int], lost_ids: Sequence[int], scope: Scope
) -> tuple[sa.Select[Any], sa.Select[Any], sa.Select[Any]]:
    """The funnel's three groupings: last passes by where they led, passes and times per
    stage, lost deals per month."""
    last = passes(stage_ids, scope, last=True)
    by_next = sa.select(
        last.c.stage_id,
        last.c.next_stage_id,
        last.c.currency,
        sa.func.count(),
        sa.func.sum(last.c.amount),
    ).group_by(last.c.stage_id, last.c.next_stage_id, last.c.currency)
    p = passes(stage_ids, scope)
    seconds = sa.func.extract("epoch", p.c.left_at - p.c.entered_at)
    fractions = pg.array([0.5, 0.9], type_=sa.Float)
    per_stage = sa.select(
        p.c.stage_id,
        sa.func.count(),
        sa.func.percentile_disc(fractions)
        .within_group(seconds)
        .filter(p.c.left_at.is_not(None)),  # one sort for both
    ).group_by(p.c.stage_id)
    m = passes(lost_ids, scope, money=True)
    month = sa.func.date_trunc("month", sa.func.timezone("UTC", m.c.entered_at)).label("month")
    lost_deals = (
        sa.select(m.c.deal_id, m.c.stage_id, month, m.c.currency, m.c.amount).distinct().subquery()
    )
    by_month = sa.select(
        lost_deals.c.month,
        lost_deals.c.stage_id,
        lost_deals.c.currency,
        sa.func.count(),
        sa.func.sum(lost_deals.c.amount),
    ).group_by(lost_deals.c.month, lost_deals.c.stage_id, lost_deals.c.currency)
    return by_next, per_stage, by_month


async def funnel_groups(
    conn: AsyncConnection, stage_ids: Sequence[int], lost_ids: Sequence[int], scope: Scope
) -> tuple[list[LastPasses], list[StagePasses], list[LostMonth]]:
    by_next, per_stage, by_month = funnel_queries(stage_ids, lost_ids, scope)
    last_rows = await _all(conn, by_next)
    stage_rows = await _all(conn, per_stage)
    month_rows = await _all(conn, by_month) if lost_ids else []
    return (
        [LastPasses(r[0], r[1], r[2], r[3], _dec(r[4])) for r in last_rows],
        [StagePasses(r[0], r[1], *_pair(r[2])) for r in stage_rows],
        [LostMonth(r[0].date(), r[1], r[2], r[3], _dec(r[4])) for r in month_rows],
    )


# ---- manager activity ----
@dataclass(frozen=True)
class ClosedGroup:
    manager_id: int
    semantic: str  # won | lost
    currency: str
    deals: int
    amount: Decimal | None


async def created_per_manager(
    conn: AsyncConnection, scope: Scope, pipeline_id: int | None
) -> dict[int, int]:
    """Deals created in the period per manager (of the pipeline they are in now)."""
    query = (
        sa.select(d.c.responsible_id, sa.func.count())
        .where(
            d.c.created_at >= scope.period.start,
            d.c.created_at < scope.period.end,
            *scope.conditions(),
        )
        .group_by(d.c.responsible_id)
    )
    if pipeline_id is not None:
        query = query.where(d.c.pipeline_id == pipeline_id)
    return {r[0]: r[1] for r in (await conn.execute(query)).all()}


def _closing(scope: Scope, pipeline_id: int | None) -> sa.Subquery:
    """Each deal's entry into a won or lost stage in the period: the last one per semantic."""
    query = (
        sa.select(
            h.c.deal_id,
            stages.c.semantic,
            sa.func.max(h.c.entered_at).label("closed_at"),
        )
        .join(stages, stages.c.id == h.c.stage_id)
        .join(d, d.c.id == h.c.deal_id)
        .where(
            stages.c.semantic.in_(["won", "lost"]),
            h.c.entered_at >= scope.period.start,
            h.c.entered_at < scope.period.end,
            *scope.conditions(),
            *scope.history_conditions(),
        )
        .group_by(h.c.deal_id, stages.c.semantic)
    )
    if pipeline_id is not None:
        query = query.where(stages.c.pipeline_id == pipeline_id)
    return query.subquery()


async def closed_per_manager(
    conn: AsyncConnection, scope: Scope, pipeline_id: int | None
) -> tuple[list[ClosedGroup], dict[int, float]]:
    """Won and lost deals per manager with their sums, and the average seconds from a closed
    deal's creation to its last close in the period."""
    c = _closing(scope, pipeline_id)
    joined = c.join(d, d.c.id == c.c.deal_id)
    groups = (
        sa.select(
            d.c.responsible_id, c.c.semantic, d.c.currency, sa.func.count(), sa.func.sum(d.c.amount)
        )
        .select_from(joined)
        .group_by(d.c.responsible_id, c.c.semantic, d.c.currency)
    )
    per_deal = (
        sa.select(d.c.responsible_id, d.c.created_at, sa.func.max(c.c.closed_at).label("closed_at"))
        .select_from(joined)
        .group_by(d.c.id)
        .subquery()
    )
    cycle = sa.select(
        per_deal.c.responsible_id,
        sa.func.avg(sa.func.extract("epoch", per_deal.c.closed_at - per_deal.c.created_at)),
    ).group_by(per_deal.c.responsible_id)
    closed = [ClosedGroup(r[0], r[1], r[2], r[3], _dec(r[4])) for r in await _all(conn, groups)]
    return closed, {r[0]: float(r[1]) for r in await _all(conn, cycle)}


# ---- time in stage per deal ----
async def deals_with_passes(
    conn: AsyncConnection,
    stage_ids: Sequence[int],
    scope: Scope,
    *,
    before_id: int | None,
    limit: int,
) -> list[Any]:
    """Deals (id, title, responsible) with a pass in the period, newest first."""
    p = passes(stage_ids, scope)
    ids = sa.select(p.c.deal_id).distinct()
    query = (
        sa.select(d.c.id, d.c.title, d.c.responsible_id)
        .where(d.c.id.in_(ids))
        .order_by(d.c.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(d.c.id < before_id)
    return await _all(conn, query)


async def stage_times(
    conn: AsyncConnection, deal_ids: Sequence[int], stage_ids: Sequence[int], now: datetime
) -> list[Any]:
    """(deal_id, stage_id, seconds, visits) over all the deals' visits, open ones up to now."""
    seconds = sa.func.extract("epoch", sa.func.coalesce(h.c.left_at, now) - h.c.entered_at)
    query = (
        sa.select(h.c.deal_id, h.c.stage_id, sa.func.sum(seconds), sa.func.count())
        .where(h.c.deal_id.in_(list(deal_ids)), h.c.stage_id.in_(list(stage_ids)))
        .group_by(h.c.deal_id, h.c.stage_id)
    )
    return await _all(conn, query)


async def _all(conn: AsyncConnection, query: sa.Select[Any]) -> list[Any]:
    return list((await conn.execute(query)).all())


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _pair(values: Any) -> tuple[float | None, float | None]:
    """The median and p90 (percentile_disc over an array of fractions), or none."""
    if values is None:
        return None, None
    median, p90 = values
    return float(median), float(p90)
