"""The funnel's counting rules (README "Reports"): where a pass through a stage went, and how
the grouped passes add up to a stage's row. Plain Python; the SQL only groups rows."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from services.common.errors import FieldProblem, ValidationFailed
from services.deals.domain.pipelines import Pipeline, Semantic, Stage

MAX_DAYS = 3700  # about ten years: a longer period is a mistake, not a report


class Outcome(StrEnum):
    ENTERED = "entered"  # every deal of the stage's row, whatever came next
    MOVED_ON = "moved_on"
    MOVED_BACK = "moved_back"
    LOST = "lost"
    MOVED_OUT = "moved_out"
    STILL_THERE = "still_there"


LEAVINGS = (
    Outcome.MOVED_ON,
    Outcome.MOVED_BACK,
    Outcome.LOST,
    Outcome.MOVED_OUT,
    Outcome.STILL_THERE,
)


@dataclass(frozen=True)
class Period:
    """[start, end): from the first day's midnight UTC to the midnight after the last day."""

    start: datetime
    end: datetime

    @classmethod
    def of_dates(cls, date_from: str, date_to: str) -> Period:
        problems: list[FieldProblem] = []
        days: list[date] = []
        for name, raw in (("from", date_from), ("to", date_to)):
            try:
                days.append(date.fromisoformat(raw))
            except ValueError:
                problems.append(FieldProblem(name, "must be a date, YYYY-MM-DD"))
        if problems:
            raise ValidationFailed(problems)
        first, last = days
        if last < first:
            raise ValidationFailed(FieldProblem("to", "must not be before from"))
        if (last - first).days > MAX_DAYS:
            raise ValidationFailed(FieldProblem("to", f"the period is at most {MAX_DAYS} days"))
        start = datetime.combine(first, time(), UTC)
        return cls(start, datetime.combine(last + timedelta(days=1), time(), UTC))

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    def month(self, first_day: date) -> Period:
        """The part of that month within this period."""
        following = (first_day.replace(day=28) + timedelta(days=4)).replace(day=1)
        start = max(self.start, datetime.combine(first_day, time(), UTC))
        return Period(start, min(self.end, datetime.combine(following, time(), UTC)))


def outcome(stage: Stage, next_stage_id: int | None, pipeline: Pipeline) -> Outcome:
    """Where a pass through `stage` went: the stage the deal entered next decides."""
    following = next((s for s in pipeline.stages if s.id == next_stage_id), None)
    match following:
        case None if next_stage_id is None:
            return Outcome.STILL_THERE
        case None:
            return Outcome.MOVED_OUT
        case Stage(semantic=Semantic.LOST):
            return Outcome.LOST
        case Stage(semantic=Semantic.WON):
            return Outcome.MOVED_ON
        case Stage(position=position) if position > stage.position:
            return Outcome.MOVED_ON
    return Outcome.MOVED_BACK


def next_stages(pipeline: Pipeline, stage: Stage, wanted: Outcome) -> tuple[list[int], bool]:
    """The next-stage ids whose passes have that outcome, and whether an open pass (no next
    stage) counts too; a stage of another pipeline counts as moved out (ids not listed)."""
    others = [s for s in pipeline.stages if s.id != stage.id]  # no move stays in its stage
    ids = [s.id for s in others if outcome(stage, s.id, pipeline) is wanted]
    return ids, wanted is Outcome.STILL_THERE


FRACTIONS = (0.5, 0.9)  # the median and p90 of the time in stage


def rank(count: int, fraction: float) -> int:
    """The index (from 0) of the first of `count` sorted values whose rank reaches the
    fraction: PostgreSQL's percentile_disc."""
    return max(0, math.ceil(fraction * count) - 1)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    if not values:
        return None
    return sorted(values)[rank(len(values), fraction)]


def in_buckets(buckets: Sequence[tuple[int, int]], fraction: float) -> tuple[int, int] | None:
    """Where the percentile's value is among values counted per bucket (bucket, count),
    buckets ascending and ordered as their values: the bucket, and the index within it."""
    wanted = rank(sum(n for _, n in buckets), fraction)
    for bucket, n in buckets:
        if wanted < n:
            return bucket, wanted
        wanted -= n
    return None


def ratio(part: int, whole: int) -> str:
    """part / whole to four places, "" when there is no whole."""
    if not whole:
        return ""
    return str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")))


CENTS = Decimal("0.01")


def sum_text(value: Decimal) -> str:
    """A sum as the reports print it: exact, with two decimals at least and no trailing
    zeros past them, however many places the amounts summed had (10.000 and 10 → 10.00)."""
    exact = value.normalize()
    places = exact.as_tuple().exponent
    if isinstance(places, int) and places < -2:
        return format(exact, "f")
    return format(value.quantize(CENTS), "f")


@dataclass
class Tally:
    """Deals and their sums per currency."""

    deals: int = 0
    sums: dict[str, Decimal] = field(default_factory=dict)

    def add(self, deals: int, currency: str, amount: Decimal | None) -> None:
        self.deals += deals
        if amount is not None:
            self.sums[currency] = self.sums.get(currency, Decimal(0)) + amount


# ---- what the SQL groups (and the raw computation produces the same) ----
@dataclass(frozen=True)
class LastPasses:
    """Unique deals whose last pass of the period through a stage went to `next_stage_id`."""

    stage_id: int
    next_stage_id: int | None
    currency: str
    deals: int
    amount: Decimal | None


@dataclass(frozen=True)
class StagePasses:
    stage_id: int
    passes: int
    median_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True)
class LostMonth:
    month: date  # its first day
    stage_id: int
    currency: str
    deals: int
    amount: Decimal | None


# ---- the report ----
@dataclass
class StageRow:
    stage: Stage
    passes: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None
    counts: dict[Outcome, Tally] = field(
        default_factory=lambda: {o: Tally() for o in (Outcome.ENTERED, *LEAVINGS)}
    )
    conversion_to_next: str = ""
    conversion_from_first: str = ""


@dataclass(frozen=True)
class LostRow:
    month: date
    stage: Stage
    period: Period
    lost: Tally


@dataclass(frozen=True)
class Funnel:
    stages: list[StageRow]
    lost: list[LostRow]


def assemble(
    pipeline: Pipeline,
    period: Period,
    last: Iterable[LastPasses],
    passes: Iterable[StagePasses],
    lost: Iterable[LostMonth],
) -> Funnel:
    """The funnel's rows, in stage order, from the grouped passes."""
    ordered = sorted(pipeline.stages, key=lambda s: s.position)
    rows = {s.id: StageRow(s) for s in ordered}
    for group in last:
        row = rows[group.stage_id]
        row.counts[Outcome.ENTERED].add(group.deals, group.currency, group.amount)
        kind = outcome(row.stage, group.next_stage_id, pipeline)
        row.counts[kind].add(group.deals, group.currency, group.amount)
    for p in passes:
        row = rows[p.stage_id]
        row.passes, row.median_seconds, row.p90_seconds = p.passes, p.median_seconds, p.p90_seconds
    first = rows[ordered[0].id].counts[Outcome.ENTERED].deals if ordered else 0
    for row in rows.values():
        entered = row.counts[Outcome.ENTERED].deals
        row.conversion_to_next = ratio(row.counts[Outcome.MOVED_ON].deals, entered)
        row.conversion_from_first = ratio(entered, first)
    months: dict[tuple[date, int], Tally] = defaultdict(Tally)
    for m in lost:
        months[(m.month, m.stage_id)].add(m.deals, m.currency, m.amount)
    lost_rows = [
        LostRow(month, rows[stage_id].stage, period.month(month), tally)
        for (month, stage_id), tally in sorted(
            months.items(), key=lambda kv: (kv[0][0], rows[kv[0][1]].stage.position)
        )
    ]
    return Funnel(list(rows.values()), lost_rows)
