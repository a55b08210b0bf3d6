"""SM-1's plain rules: the call-back date and when the new call is due."""

from __future__ import annotations

from datetime import UTC, date, datetime

from process_rules.proposals import call_back_problem, call_back_window

TODAY = date(2026, 12, 1)


def test_a_call_back_is_today_or_later_and_an_iso_date() -> None:
    assert call_back_problem("2026-12-01", TODAY) is None
    assert call_back_problem("2026-12-24", TODAY) is None
    assert "today or later" in str(call_back_problem("2026-11-30", TODAY))
    assert "ISO date" in str(call_back_problem("24.12.2026", TODAY))
    assert "ISO date" in str(call_back_problem("", TODAY))


def test_the_call_appears_at_the_start_of_the_day_and_is_due_by_its_end() -> None:
    start, due = call_back_window(date(2026, 12, 24))
    assert start == datetime(2026, 12, 24, tzinfo=UTC)
    assert due == datetime(2026, 12, 24, 23, 59, 59, tzinfo=UTC)
