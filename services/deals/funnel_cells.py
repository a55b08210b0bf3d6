"""The funnel read from its cells (services/deals/funnel_tables.py) instead of every pass:
the same groups as services/deals/reports_repository.funnel_groups, exactly, in a handful
of statements that read a cell per day, stage and outcome. Folded cells and changes not
folded yet are read together, in one snapshot (the caller's REPEATABLE READ transaction),
so the sums hold at any moment; folding (`fold`) only keeps the changes short.

A pass counts in the period when its UTC day of entry is in it; it is the deal's last pass
of the period through its stage when the deal did not enter the stage again before the
period's end (both ends are UTC midnights, so days decide exactly). The median and p90 of
the time in stage take the bucket each falls in from the duration cells, then the one
value at its rank within that bucket from the history rows, by index."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.deals.domain.funnel import FRACTIONS, LastPasses, LostMonth, StagePasses, in_buckets
from services.deals.funnel_tables import DURATION_CELLS, PASS_CELLS, Cells
from services.deals.reports_repository import Scope
from services.deals.tables import stage_history as h

log = logging.getLogger(__name__)
FOLD_EVERY_SECONDS = 5.0

Conditions = Callable[[sa.Table], list[sa.ColumnElement[bool]]]


def usable(scope: Scope) -> bool:
    """Cells know each pass's responsible, not the deal's pipeline: visibility ruled per
    pipeline reads the passes themselves."""
    return not scope.needs_deals()


def _rows(cells: Cells, scope: Scope, columns: Sequence[str], where: Conditions) -> sa.Subquery:
    """The scope's folded cells and unfolded changes, as one set of rows."""
    mine = bool(scope.owners(cells.mine.c.responsible_id))
    parts = []
    for table in (cells.mine if mine else cells.everyone, cells.changes):
        owners = scope.owners(table.c.responsible_id) if "responsible_id" in table.c else []
        parts.append(sa.select(*(table.c[c] for c in columns)).where(*where(table), *owners))
    return sa.union_all(*parts).subquery()


def _in_period(stage_ids: Sequence[int], scope: Scope) -> Conditions:
    start, end = scope.period.start.date(), scope.period.end.date()
    return lambda t: [
        t.c.stage_id.in_(list(stage_ids)),
        t.c.entered_on >= start,
        t.c.entered_on < end,
    ]


def _last_before(end: sa.ColumnElement[date] | date, t: sa.Subquery) -> sa.ColumnElement[bool]:
    """The deal's last pass through the stage before `end`: not entered again before it."""
    return sa.or_(t.c.reentered_on.is_(None), t.c.reentered_on >= end)


_PASS_COLUMNS = ("stage_id", "entered_on", "reentered_on", "next_stage_id", "currency",
                 "passes", "priced", "amount")  # fmt: skip


def _money(t: sa.Subquery, *only: sa.ColumnElement[bool]) -> list[Any]:
    """Passes, priced passes and their sum (of the rows that meet `only`)."""
    sums = (sa.func.sum(t.c.passes), sa.func.sum(t.c.priced), sa.func.sum(t.c.amount))
    return [s.filter(*only) if only else s for s in sums]


async def _last_passes(
    conn: AsyncConnection, stage_ids: Sequence[int], scope: Scope
) -> tuple[list[LastPasses], dict[int, int]]:
    """The last passes by where they led, and all passes per stage, in one reading."""
    c = _rows(PASS_CELLS, scope, _PASS_COLUMNS, _in_period(stage_ids, scope))
    query = (
        sa.select(
            c.c.stage_id,
            c.c.next_stage_id,
            c.c.currency,
            *_money(c, _last_before(scope.period.end.date(), c)),
            sa.func.sum(c.c.passes),
        )
        .group_by(c.c.stage_id, c.c.next_stage_id, c.c.currency)
        .having(sa.func.sum(c.c.passes) != 0)
    )
    last, passes = [], defaultdict[int, int](int)
    for stage_id, next_stage_id, currency, deals, priced, amount, every in await _all(conn, query):
        passes[stage_id] += int(every)
        if deals:
            last.append(LastPasses(stage_id, next_stage_id, currency, int(deals),
                                   amount if priced else None))  # fmt: skip
    return last, passes


async def _lost_months(
    conn: AsyncConnection, lost_ids: Sequence[int], scope: Scope
) -> list[LostMonth]:
    """Lost deals per month: a deal counts once in a month, by its last pass of the month
    (within the period) through the lost stage."""
    c = _rows(PASS_CELLS, scope, _PASS_COLUMNS, _in_period(lost_ids, scope))
    first = sa.func.date_trunc("month", c.c.entered_on)
    month = sa.cast(first, sa.Date)
    month_end = sa.func.least(
        sa.cast(first + sa.text("interval '1 month'"), sa.Date), scope.period.end.date()
    )
    query = (
        sa.select(month, c.c.stage_id, c.c.currency, *_money(c))
        .where(_last_before(month_end, c))
        .group_by(month, c.c.stage_id, c.c.currency)
        .having(sa.func.sum(c.c.passes) != 0)
    )
    rows = await _all(conn, query)
    return [LostMonth(r[0], r[1], r[2], int(r[3]), r[5] if r[4] else None) for r in rows]


async def _times(
    conn: AsyncConnection, stage_ids: Sequence[int], scope: Scope
) -> dict[int, tuple[float | None, float | None]]:
    """Per stage: the median and p90 seconds of its ended passes begun in the period."""
    c = _rows(DURATION_CELLS, scope, ("stage_id", "bucket", "passes"), _in_period(stage_ids, scope))
    query = (
        sa.select(c.c.stage_id, c.c.bucket, sa.func.sum(c.c.passes))
        .group_by(c.c.stage_id, c.c.bucket)
        .having(sa.func.sum(c.c.passes) != 0)
        .order_by(c.c.stage_id, c.c.bucket)
    )
    buckets: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for stage_id, bucket, n in await _all(conn, query):
        buckets[stage_id].append((bucket, int(n)))
    wanted = [
        (stage_id, f, in_buckets(counted, f))
        for stage_id, counted in buckets.items()
        for f in FRACTIONS
    ]
    values = [_value_at(stage_id, spot, scope) for stage_id, _, spot in wanted if spot]
    found = iter((await conn.execute(sa.select(*values))).one()) if values else iter(())
    times: dict[int, list[float | None]] = defaultdict(list)
    for stage_id, _, spot in wanted:
        times[stage_id].append(float(next(found)) if spot else None)
    return {stage_id: (pair[0], pair[1]) for stage_id, pair in times.items()}


def _value_at(stage_id: int, spot: tuple[int, int], scope: Scope) -> sa.ScalarSelect[Any]:
    """The seconds of the pass at that index among the period's ended passes through the
    stage in that bucket, by the history's duration index."""
    bucket, index = spot
    return (
        sa.select(h.c.seconds)
        .where(
            h.c.stage_id == stage_id,
            h.c.duration_bucket == bucket,
            h.c.entered_at >= scope.period.start,
            h.c.entered_at < scope.period.end,
            *scope.history_conditions(),
        )
        .order_by(h.c.seconds)
        .offset(index)
        .limit(1)
        .scalar_subquery()
    )


async def funnel_groups(
    conn: AsyncConnection, stage_ids: Sequence[int], lost_ids: Sequence[int], scope: Scope
) -> tuple[list[LastPasses], list[StagePasses], list[LostMonth]]:
    """What reports_repository.funnel_groups computes from the passes, from the cells; the
    connection must hold one snapshot for all (REPEATABLE READ)."""
    last, counts = await _last_passes(conn, stage_ids, scope)
    times = await _times(conn, stage_ids, scope)
    stages = [
        StagePasses(stage_id, n, *times.get(stage_id, (None, None)))
        for stage_id, n in counts.items()
    ]
    lost = await _lost_months(conn, lost_ids, scope) if lost_ids else []
    return last, stages, lost


async def fold(engine: AsyncEngine) -> int:
    """Move the changes into the folded cells (another fold running: nothing, 0), then
    vacuum the changes: a report reads them whole, dead rows too until vacuumed."""
    async with engine.begin() as conn:
        folded = int(
            (await conn.execute(sa.text("SELECT deals.fold_funnel_changes()"))).scalar_one()
        )
    if folded:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            tables = ", ".join(f"deals.{c.changes.name}" for c in (PASS_CELLS, DURATION_CELLS))
            await conn.execute(sa.text(f"VACUUM {tables}"))
    return folded


async def keep_folding(engine: AsyncEngine, stop: asyncio.Event) -> None:
    """Fold every few seconds until `stop` (a report is exact either way; folded changes
    keep it fast)."""
    while not stop.is_set():
        try:
            folded = await fold(engine)
            if folded:
                log.debug("funnel changes folded", extra={"cells": folded})
        except Exception:  # the database away for a while: the next round folds it all
            log.warning("folding the funnel's changes failed", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), FOLD_EVERY_SECONDS)


async def _all(conn: AsyncConnection, query: sa.Select[Any]) -> list[Any]:
    return list((await conn.execute(query)).all())
