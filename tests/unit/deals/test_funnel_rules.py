"""The funnel's counting rules (README "Reports"): where a pass went, backward moves and
skipped stages, re-entries, conversions, percentiles, the period."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.errors import ValidationFailed
from services.deals.domain.funnel import (
    LEAVINGS,
    Outcome,
    Period,
    assemble,
    in_buckets,
    next_stages,
    outcome,
    percentile,
    ratio,
    sum_text,
)
from services.deals.domain.funnel_raw import Money, Pass, deals_of, group_passes, passes_of
from services.deals.domain.pipelines import Pipeline, Semantic, Stage

NEW, QUALIFIED, PROPOSAL, WON, NO_BUDGET, COMPETITOR = range(1, 7)
PIPELINE = Pipeline(
    1,
    "Sales",
    (
        Stage(NEW, "New", Semantic.IN_PROGRESS, 0),
        Stage(QUALIFIED, "Qualified", Semantic.IN_PROGRESS, 1),
        Stage(PROPOSAL, "Proposal", Semantic.IN_PROGRESS, 2),
        Stage(WON, "Won", Semantic.WON, 3),
        Stage(NO_BUDGET, "No budget", Semantic.LOST, 4),
        Stage(COMPETITOR, "Chose a competitor", Semantic.LOST, 5),
    ),
)
OTHER_PIPELINE_STAGE = 99
T0 = datetime(2026, 3, 30, 9, tzinfo=UTC)
PERIOD = Period.of_dates("2026-03-01", "2026-04-30")


def _stage(stage_id: int) -> Stage:
    return PIPELINE.stage(stage_id)


@pytest.mark.parametrize(
    ("frm", "to", "expected"),
    [
        (NEW, QUALIFIED, Outcome.MOVED_ON),
        (NEW, PROPOSAL, Outcome.MOVED_ON),  # a skipped stage is moving on
        (PROPOSAL, QUALIFIED, Outcome.MOVED_BACK),
        (PROPOSAL, NEW, Outcome.MOVED_BACK),
        (NEW, NO_BUDGET, Outcome.LOST),
        (PROPOSAL, WON, Outcome.MOVED_ON),
        (WON, NEW, Outcome.MOVED_BACK),  # reopened
        (NO_BUDGET, WON, Outcome.MOVED_ON),
        (NO_BUDGET, COMPETITOR, Outcome.LOST),
        (QUALIFIED, OTHER_PIPELINE_STAGE, Outcome.MOVED_OUT),
        (QUALIFIED, None, Outcome.STILL_THERE),
    ],
)
def test_where_a_pass_went(frm: int, to: int | None, expected: Outcome) -> None:
    assert outcome(_stage(frm), to, PIPELINE) is expected


def test_next_stages_of_an_outcome() -> None:
    assert next_stages(PIPELINE, _stage(QUALIFIED), Outcome.MOVED_ON) == ([PROPOSAL, WON], False)
    assert next_stages(PIPELINE, _stage(QUALIFIED), Outcome.MOVED_BACK) == ([NEW], False)
    assert next_stages(PIPELINE, _stage(QUALIFIED), Outcome.STILL_THERE) == ([], True)


def test_percentile_is_the_first_value_reaching_the_fraction() -> None:
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.0  # not the mean of the middle two
    assert percentile([float(i) for i in range(1, 11)], 0.9) == 9.0
    assert percentile([float(i) for i in range(1, 12)], 0.9) == 10.0


def test_ratio() -> None:
    assert ratio(2, 3) == "0.6667"
    assert ratio(0, 4) == "0.0000"
    assert ratio(1, 0) == ""


def test_period_days_and_months() -> None:
    period = Period.of_dates("2026-03-15", "2026-04-10")
    assert period.start == datetime(2026, 3, 15, tzinfo=UTC)
    assert period.end == datetime(2026, 4, 11, tzinfo=UTC)
    assert period.last_day == date(2026, 4, 10)
    march = period.month(date(2026, 3, 1))
    assert (march.start.date(), march.last_day) == (date(2026, 3, 15), date(2026, 3, 31))
    april = period.month(date(2026, 4, 1))
    assert (april.start.date(), april.last_day) == (date(2026, 4, 1), date(2026, 4, 10))
    december = Period.of_dates("2026-12-01", "2026-12-31").month(date(2026, 12, 1))
    assert december.end == datetime(2027, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("frm", "to", "field"),
    [("2026-13-01", "2026-12-01", "from"), ("2026-02-01", "2026-01-31", "to"),
     ("2000-01-01", "2026-01-01", "to"), ("2026-01-01", "x", "to")],
)  # fmt: skip
def test_a_bad_period_names_its_field(frm: str, to: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        Period.of_dates(frm, to)
    assert [p.field for p in raised.value.problems] == [field]


def _history() -> tuple[list[Pass], dict[int, Money]]:
    """The JUG-3 deals: A won; B back to New and through again; C lost; D skips a stage,
    moves back and is lost; E stays; F entered before the period (not counted)."""
    moves = {
        1: [NEW, QUALIFIED, PROPOSAL, WON],
        2: [NEW, QUALIFIED, NEW, QUALIFIED, PROPOSAL],
        3: [NEW, NO_BUDGET],
        4: [NEW, PROPOSAL, QUALIFIED, COMPETITOR],
        5: [NEW],
    }
    passes: list[Pass] = []
    for deal_id, stages in moves.items():
        times = [T0 + timedelta(hours=deal_id * 10 + i * (i + 1)) for i in range(len(stages))]
        passes += passes_of(deal_id, list(zip(stages, times, strict=True)), len(passes) + 1)
    passes += passes_of(6, [(NEW, T0 - timedelta(days=60))], len(passes) + 1)
    money = {
        1: Money(Decimal("1000"), "RUB"),
        2: Money(Decimal("500"), "RUB"),
        3: Money(Decimal("300"), "USD"),
        4: Money(None, "RUB"),
        5: Money(Decimal("100"), "RUB"),
        6: Money(Decimal("1"), "RUB"),
    }
    return passes, money


def test_the_funnel_of_known_moves() -> None:
    passes, money = _history()
    funnel = assemble(PIPELINE, PERIOD, *group_passes(PIPELINE, PERIOD, passes, money))
    rows = {r.stage.id: r for r in funnel.stages}
    new = rows[NEW]
    assert (new.passes, new.counts[Outcome.ENTERED].deals) == (6, 5)  # B re-entered
    assert {o: new.counts[o].deals for o in LEAVINGS} == {
        Outcome.MOVED_ON: 3,
        Outcome.MOVED_BACK: 0,
        Outcome.LOST: 1,
        Outcome.MOVED_OUT: 0,
        Outcome.STILL_THERE: 1,
    }
    assert new.counts[Outcome.ENTERED].sums == {"RUB": Decimal("1600"), "USD": Decimal("300")}
    proposal = rows[PROPOSAL]
    assert proposal.counts[Outcome.MOVED_BACK].deals == 1  # D went back to Qualified
    assert proposal.counts[Outcome.MOVED_BACK].sums == {}  # D has no amount
    assert rows[QUALIFIED].counts[Outcome.ENTERED].deals == 3  # D re-entered it, B twice
    assert [r.conversion_to_next for r in funnel.stages[:3]] == ["0.6000", "0.6667", "0.3333"]
    assert rows[WON].conversion_from_first == "0.2000"
    # moves come 2, 4, 6, 8 hours apart: New's ended passes took 2, 2 and 6 (B), 2, 2 hours
    assert new.median_seconds == 2 * 3600
    assert new.p90_seconds == 6 * 3600
    assert [(r.month, r.stage.id, r.lost.deals) for r in funnel.lost] == [
        (date(2026, 3, 1), NO_BUDGET, 1),  # C on 31 March, D on 1 April
        (date(2026, 4, 1), COMPETITOR, 1),
    ]
    assert funnel.lost[0].period == Period.of_dates("2026-03-01", "2026-03-31")
    listed = deals_of(PIPELINE, PERIOD, passes, money)
    assert listed[(NEW, "moved_on")] == {1, 2, 4}
    assert listed[(PROPOSAL, "moved_back")] == {4}


_moves = st.lists(st.sampled_from([*range(1, 7), OTHER_PIPELINE_STAGE]), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.lists(_moves, min_size=1, max_size=12), st.integers(0, 400))
def test_every_deal_of_a_row_went_exactly_one_way(
    histories: list[list[int]], offset_hours: int
) -> None:
    passes: list[Pass] = []
    money = {}
    for deal_id, stages in enumerate(histories, start=1):
        start = T0 - timedelta(days=20) + timedelta(hours=offset_hours * deal_id % 900)
        times = [start + timedelta(hours=7 * i) for i in range(len(stages))]
        passes += passes_of(deal_id, list(zip(stages, times, strict=True)), len(passes) + 1)
        money[deal_id] = Money(Decimal(deal_id), "RUB" if deal_id % 2 else "USD")
    funnel = assemble(PIPELINE, PERIOD, *group_passes(PIPELINE, PERIOD, passes, money))
    listed = deals_of(PIPELINE, PERIOD, passes, money)
    for row in funnel.stages:
        entered = row.counts[Outcome.ENTERED]
        assert sum(row.counts[o].deals for o in LEAVINGS) == entered.deals
        for currency in ("RUB", "USD"):
            total = sum((row.counts[o].sums.get(currency, 0) for o in LEAVINGS), Decimal(0))
            assert total == entered.sums.get(currency, Decimal(0))
        assert row.passes >= entered.deals
        for o in (Outcome.ENTERED, *LEAVINGS):
            assert len(listed.get((row.stage.id, o.value), set())) == row.counts[o].deals


def test_a_sum_prints_the_same_however_many_places_its_amounts_had() -> None:
    assert sum_text(Decimal("10")) == sum_text(Decimal("10.000")) == "10.00"
    assert sum_text(Decimal("10.5")) == sum_text(Decimal("10.5000")) == "10.50"
    assert sum_text(Decimal("10.125")) == "10.125"
    assert sum_text(Decimal("0")) == "0.00"
    assert sum_text(Decimal("1E+3")) == "1000.00"


def test_a_percentile_is_found_among_counted_buckets() -> None:
    values = [1.0, 2.0, 2.0, 3.0, 7.0, 8.0, 9.0, 30.0, 31.0, 32.0]
    buckets = [(0, 4), (3, 3), (5, 3)]  # values by bucket, in order: [1 2 2 3] [7 8 9] [30..]
    flat = sorted(values)
    for fraction in (0.1, 0.5, 0.9, 1.0):
        spot = in_buckets(buckets, fraction)
        assert spot is not None
        start = {0: 0, 3: 4, 5: 7}[spot[0]]
        assert flat[start + spot[1]] == percentile(values, fraction)
    assert in_buckets([], 0.5) is None
