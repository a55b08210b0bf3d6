"""The company calendar: business days over weekends and holidays in the company's time
zone, ISO offsets from date fields, and what a calendar may be."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.common.errors import ValidationFailed
from services.deals.domain.calendar import (
    CompanyCalendar,
    add_business_days,
    apply_offset,
    calendar_of,
    check_offset,
    parse_offset,
)

MOSCOW = CompanyCalendar(timezone="Europe/Moscow", holidays=frozenset({date(2026, 12, 7)}))
FRIDAY_NOON = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)  # 12:00 in Moscow


def test_two_business_days_from_a_friday_skip_the_weekend_and_a_holiday_monday() -> None:
    assert add_business_days(FRIDAY_NOON, 2, MOSCOW) == datetime(2026, 12, 9, 9, 0, tzinfo=UTC)
    assert add_business_days(FRIDAY_NOON, 1, CompanyCalendar()) == datetime(
        2026, 12, 7, 9, 0, tzinfo=UTC
    )
    assert add_business_days(FRIDAY_NOON, -1, MOSCOW) == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_the_day_is_counted_in_the_company_s_time_zone() -> None:
    # 22:30 UTC on Friday is already Saturday 01:30 in Moscow: one working day on is Monday
    # 01:30 there (Sunday 22:30 UTC); on a UTC calendar it is Monday 22:30.
    late = datetime(2026, 12, 4, 22, 30, tzinfo=UTC)
    moscow = CompanyCalendar(timezone="Europe/Moscow")
    assert add_business_days(late, 1, moscow) == datetime(2026, 12, 6, 22, 30, tzinfo=UTC)
    assert add_business_days(late, 1, CompanyCalendar()) == datetime(
        2026, 12, 7, 22, 30, tzinfo=UTC
    )


def test_offsets() -> None:
    assert parse_offset("-P1D") == timedelta(days=-1)
    assert parse_offset("PT2H30M") == timedelta(hours=2, minutes=30)
    assert parse_offset("P1W") == timedelta(days=7)
    for bad in ("P", "1D", "-PT", "P1Y"):
        with pytest.raises(ValueError):
            parse_offset(bad)


def test_a_delay_from_a_date_field_starts_at_the_working_day_s_start() -> None:
    fields = {"deadline": "2026-12-10"}
    at = apply_offset(FRIDAY_NOON, {"field": "deadline", "offset": "-P1D"}, MOSCOW, fields.get)
    assert at == datetime(2026, 12, 9, 6, 0, tzinfo=UTC)  # 09:00 Moscow on the 9th
    assert apply_offset(FRIDAY_NOON, {"field": "deadline"}, MOSCOW, {}.get) is None
    assert apply_offset(
        FRIDAY_NOON, {"seconds": 604800}, MOSCOW, fields.get
    ) == FRIDAY_NOON + timedelta(days=7)
    assert apply_offset(FRIDAY_NOON, None, MOSCOW, fields.get) == FRIDAY_NOON


def test_offset_problems_are_named() -> None:
    assert check_offset({"seconds": 5, "hours": 1}, "delay", set()) == []
    assert [p.field for p in check_offset({"weeks": 1}, "delay", set())] == ["delay.weeks"]
    assert [p.field for p in check_offset({"seconds": -1}, "delay", set())] == ["delay.seconds"]
    assert [p.field for p in check_offset({"business_days": 2, "days": 1}, "d", set())] == ["d"]
    assert [p.field for p in check_offset({"field": "x", "offset": "soon"}, "d", set())] == [
        "d.field",
        "d.offset",
    ]


def test_a_calendar_is_checked_whole() -> None:
    calendar = calendar_of({"timezone": "Europe/Moscow", "holidays": ["2027-01-01"]})
    assert calendar.view()["holidays"] == ["2027-01-01"]
    with pytest.raises(ValidationFailed) as err:
        calendar_of(
            {"timezone": "Mars/Base", "working_days": [0], "work_start": "9", "holidays": ["x"]}
        )
    assert [p.field for p in err.value.problems] == [
        "timezone",
        "working_days",
        "work_start",
        "holidays[0]",
    ]
