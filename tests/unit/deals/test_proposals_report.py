"""SM-1's proposals report as plain rules: counts per manager, refusals with reasons,
pending = sent in the period without an outcome in it, the period's bounds checked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.common.errors import ValidationFailed
from services.deals.domain.proposals import (
    AGREED,
    REFUSED,
    SENT,
    ProposalEntry,
    period,
    proposal_report,
)


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=UTC)


def entry(proposal: str, kind: str, manager: str, day: int, reason: str = "") -> ProposalEntry:
    return ProposalEntry(proposal, int(proposal[1:]), kind, manager, at(day), reason)


def test_counts_per_manager_with_reasons_and_pending() -> None:
    rows = proposal_report(
        [
            entry("p1", SENT, "7", 1),
            entry("p1", AGREED, "7", 3),
            entry("p2", SENT, "7", 2),
            entry("p2", REFUSED, "7", 4, "Too expensive"),
            entry("p3", SENT, "7", 5),  # no outcome yet: pending
            entry("p4", SENT, "12", 1),
            entry("p4", REFUSED, "12", 2, "Went to a rival"),
        ]
    )
    assert [(r.manager_id, r.sent, r.agreed, r.refused, r.pending) for r in rows] == [
        ("7", 3, 1, 1, 1),
        ("12", 1, 0, 1, 0),
    ]
    assert [(r.deal_id, r.reason) for r in rows[0].refusals] == [(2, "Too expensive")]


def test_an_outcome_of_a_proposal_sent_before_the_period_counts_but_is_not_pending() -> None:
    (row,) = proposal_report([entry("p9", AGREED, "7", 3)])
    assert (row.sent, row.agreed, row.pending) == (0, 1, 0)


def test_the_period_is_whole_days_and_checked() -> None:
    assert period("2026-12-01", "2026-12-31") == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert period("9999-12-31", "9999-12-31")[1] == datetime.max.replace(tzinfo=UTC)
    with pytest.raises(ValidationFailed) as refused:
        period("2026-12-31", "2026-12-01")
    assert [p.field for p in refused.value.problems] == ["to"]
    with pytest.raises(ValidationFailed) as refused:
        period("yesterday", "2026-12-01")
    assert [p.field for p in refused.value.problems] == ["from"]
