"""The rules of reminder plans (due times per channel, frequencies checked by field) and of
the leadership alerts (who hears what, when the next check is due on the calendar)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.common.errors import ValidationFailed
from services.deals.domain import alerts
from services.deals.domain.calendar import CompanyCalendar
from services.deals.domain.reminder_plans import Frequency, next_due, parse_frequencies

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # a Monday


def test_a_channel_is_due_at_once_then_an_interval_after_the_later_of_done_and_made() -> None:
    calls = Frequency(2, "month")
    assert next_due(calls, last_done=None, last_reminder=None, started=T0) == T0
    later = T0 + timedelta(days=3)
    assert (
        next_due(calls, last_done=later, last_reminder=T0, started=T0) == later + calls.interval()
    )
    assert (
        next_due(calls, last_done=T0, last_reminder=later, started=T0) == later + calls.interval()
    )
    assert Frequency(4, "year").interval() == timedelta(days=365.25 / 4)


def test_frequencies_are_checked_naming_each_field() -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_frequencies({"calls": {"count": 0, "per": "month"}, "faxes": {}, "letters": 3})
    assert [p.field for p in refused.value.problems] == [
        "frequencies.calls.count",
        "frequencies.faxes",
        "frequencies.letters",
    ]
    with pytest.raises(ValidationFailed):
        parse_frequencies({})
    assert parse_frequencies({"meetings": {"count": 1, "per": "quarter"}}) == {
        "meetings": Frequency(1, "quarter")
    }


def deal(**changes: object) -> alerts.OpenDeal:
    base = {
        "id": 7,
        "title": "Stand",
        "client": "Acme",
        "responsible_id": 3,
        "created_at": T0,
        "last_done": None,
        "next_due": None,
    }
    return alerts.OpenDeal(**{**base, **changes})  # type: ignore[arg-type]


def test_no_next_activity_tells_the_manager_then_past_the_grace_the_head() -> None:
    grace = timedelta(hours=24)
    soon = alerts.unplanned([deal()], heads={3: 9}, now=T0 + timedelta(hours=1), grace=grace)
    assert [(a.user_id, a.key) for a in soon] == [(3, f"unplanned/7/{T0.isoformat()}/manager")]
    late = alerts.unplanned([deal()], heads={3: 9}, now=T0 + grace, grace=grace)
    assert [a.user_id for a in late] == [3, 9]
    planned = deal(next_due=T0 + timedelta(days=1))
    assert alerts.unplanned([planned], heads={3: 9}, now=T0 + grace, grace=grace) == []


def test_the_digest_lists_idle_and_overdue_clients_per_head_once_a_day() -> None:
    now = T0 + timedelta(days=20)
    found = alerts.digest(
        [
            deal(),
            deal(id=8, last_done=now - timedelta(days=1)),
            deal(id=9, next_due=now - timedelta(hours=1)),
        ],
        heads={3: 9},
        names={3: "Maria"},
        now=now,
        stale_days=14,
        day=date(2027, 3, 21),
    )
    (summary,) = found
    assert summary.user_id == 9 and summary.title.endswith(": 2")
    assert summary.body.splitlines()[0] == "#7 Stand (Acme) — Maria: no activity for 20 days"
    assert "#9 Stand (Acme) — Maria: next activity overdue since" in summary.body
    again = alerts.digest(
        [deal()], heads={3: 9}, names={}, now=now, stale_days=14, day=date(2027, 3, 21)
    )
    assert again[0].key.startswith("digest/9/2027-03-21/") and again[0].key != summary.key


def test_the_next_check_is_on_a_working_day_at_the_local_time() -> None:
    calendar = CompanyCalendar(timezone="Europe/Moscow", holidays=frozenset({date(2027, 3, 8)}))
    friday_evening = datetime(2027, 3, 5, 16, 0, tzinfo=UTC)  # 19:00 in Moscow
    assert alerts.next_working_time(friday_evening, calendar, "09:00") == datetime(
        2027,
        3,
        9,
        6,
        0,
        tzinfo=UTC,  # Monday the 8th is a holiday: Tuesday 09:00 MSK
    )
    assert alerts.next_working_time(T0, calendar, "18:00") == datetime(
        2027, 3, 1, 15, 0, tzinfo=UTC
    )
