"""The funnel's groups computed from raw passes in plain Python: what the SQL of
services/deals/reports_repository.py must produce (tests compare the two on random
histories), and the rules' reference for unit tests."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from services.deals.domain.funnel import (
    LastPasses,
    LostMonth,
    Outcome,
    Period,
    StagePasses,
    outcome,
    percentile,
)
from services.deals.domain.pipelines import Pipeline, Semantic


@dataclass(frozen=True)
class Pass:
    """One stage-history row: a visit of a deal to a stage, and the stage it led to."""

    id: int
    deal_id: int
    stage_id: int
    entered_at: datetime
    left_at: datetime | None
    next_stage_id: int | None


@dataclass(frozen=True)
class Money:
    amount: Decimal | None
    currency: str


def passes_of(deal_id: int, visits: Sequence[tuple[int, datetime]], first_id: int) -> list[Pass]:
    """A deal's passes from its (stage, entered at) moves, in order, as the service keeps
    them: each ends when the next begins and notes where it led."""
    out = []
    for i, (stage_id, at) in enumerate(visits):
        following = visits[i + 1] if i + 1 < len(visits) else None
        out.append(
            Pass(
                first_id + i,
                deal_id,
                stage_id,
                at,
                following[1] if following else None,
                following[0] if following else None,
            )
        )
    return out


def _sum(amounts: Iterable[Decimal | None]) -> Decimal | None:
    present = [a for a in amounts if a is not None]
    return sum(present, Decimal(0)) if present else None


def _counted(
    pipeline: Pipeline, period: Period, passes: Iterable[Pass], money: Mapping[int, Money]
) -> tuple[list[Pass], dict[tuple[int, int], Pass]]:
    """The passes the report counts, and each deal's last one per stage."""
    stage_ids = {s.id for s in pipeline.stages}
    counted = [
        p
        for p in passes
        if p.stage_id in stage_ids
        and p.deal_id in money
        and period.start <= p.entered_at < period.end
    ]
    last: dict[tuple[int, int], Pass] = {}
    for p in sorted(counted, key=lambda p: p.id):
        last[(p.deal_id, p.stage_id)] = p
    return counted, last


def group_passes(
    pipeline: Pipeline, period: Period, passes: Iterable[Pass], money: Mapping[int, Money]
) -> tuple[list[LastPasses], list[StagePasses], list[LostMonth]]:
    """The groups of the report from the passes of the deals in `money` (those counted)."""
    lost_ids = {s.id for s in pipeline.stages if s.semantic is Semantic.LOST}
    counted, last = _counted(pipeline, period, passes, money)
    by_next: dict[tuple[int, int | None, str], list[Decimal | None]] = defaultdict(list)
    for p in last.values():
        m = money[p.deal_id]
        by_next[(p.stage_id, p.next_stage_id, m.currency)].append(m.amount)
    per_stage: dict[int, list[Pass]] = defaultdict(list)
    for p in counted:
        per_stage[p.stage_id].append(p)
    stage_rows = []
    for stage_id, rows in per_stage.items():
        ended = [(p.left_at - p.entered_at).total_seconds() for p in rows if p.left_at]
        stage_rows.append(
            StagePasses(stage_id, len(rows), percentile(ended, 0.5), percentile(ended, 0.9))
        )
    lost_deals = {
        (p.deal_id, p.stage_id, p.entered_at.date().replace(day=1))
        for p in counted
        if p.stage_id in lost_ids
    }
    by_month: dict[tuple[date, int, str], list[Decimal | None]] = defaultdict(list)
    for deal_id, stage_id, month in lost_deals:
        m = money[deal_id]
        by_month[(month, stage_id, m.currency)].append(m.amount)
    return (
        [LastPasses(s, n, c, len(a), _sum(a)) for (s, n, c), a in by_next.items()],
        stage_rows,
        [LostMonth(mo, s, c, len(a), _sum(a)) for (mo, s, c), a in by_month.items()],
    )


def deals_of(
    pipeline: Pipeline, period: Period, passes: Iterable[Pass], money: Mapping[int, Money]
) -> dict[tuple[int, str], set[int]]:
    """Per (stage, outcome): the deals behind that count (what the drill-down lists)."""
    _, last = _counted(pipeline, period, passes, money)
    found: dict[tuple[int, str], set[int]] = defaultdict(set)
    for (deal_id, stage_id), p in last.items():
        stage = pipeline.stage(stage_id)
        found[(stage_id, Outcome.ENTERED.value)].add(deal_id)
        found[(stage_id, outcome(stage, p.next_stage_id, pipeline).value)].add(deal_id)
    return found
