"""The company calendar (working days, hours, holidays, time zone) and the delays and
deadlines of automation rules computed on it. Pure functions: the deals service computes a
run's due times with them, so the workflow that waits on them stays deterministic.

A delay or a deadline offset is one of
    {"seconds": 604800}  (also minutes, hours, days; summed when several are given)
    {"business_days": 2}  (working days of the calendar, the time of day kept)
    {"field": "deadline", "offset": "-P1D"}  (a date field of the deal, ISO 8601 offset)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.common.errors import FieldProblem, ValidationFailed

_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_DURATION = re.compile(
    r"^(?P<sign>[-+])?P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
MAX_SECONDS = 5 * 365 * 86400
MAX_BUSINESS_DAYS = 1000


@dataclass(frozen=True)
class CompanyCalendar:
    timezone: str = "UTC"
    working_days: tuple[int, ...] = (1, 2, 3, 4, 5)  # ISO weekdays, Monday = 1
    work_start: str = "09:00"
    work_end: str = "18:00"
    holidays: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        return day.isoweekday() in self.working_days and day not in self.holidays

    def view(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "working_days": list(self.working_days),
            "work_start": self.work_start,
            "work_end": self.work_end,
            "holidays": sorted(d.isoformat() for d in self.holidays),
        }


def calendar_of(raw: Mapping[str, Any]) -> CompanyCalendar:
    """A calendar from its JSON view; every problem at once, named by field."""
    problems: list[FieldProblem] = []
    zone = raw.get("timezone", "UTC")
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(FieldProblem("timezone", "must be an IANA time zone, e.g. Europe/Moscow"))
    days = raw.get("working_days", [1, 2, 3, 4, 5])
    if not isinstance(days, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7 for d in days
    ):
        problems.append(FieldProblem("working_days", "must list ISO weekdays, 1 (Mon) to 7"))
        days = []
    elif not days:
        problems.append(FieldProblem("working_days", "must have at least one day"))
    hours = {}
    for name in ("work_start", "work_end"):
        hours[name] = str(raw.get(name, "09:00" if name == "work_start" else "18:00"))
        if not _HOURS.match(hours[name]):
            problems.append(FieldProblem(name, "must be a time as HH:MM"))
    holidays: set[date] = set()
    listed = raw.get("holidays", [])
    if not isinstance(listed, list):
        problems.append(FieldProblem("holidays", "must be a list of dates"))
        listed = []
    for i, day in enumerate(listed):
        try:
            holidays.add(date.fromisoformat(str(day)))
        except ValueError:
            problems.append(FieldProblem(f"holidays[{i}]", "must be a date as YYYY-MM-DD"))
    if not problems and hours["work_start"] >= hours["work_end"]:
        problems.append(FieldProblem("work_end", "must be after work_start"))
    if problems:
        raise ValidationFailed(problems)
    return CompanyCalendar(
        timezone=str(zone),
        working_days=tuple(sorted(set(days))),
        work_start=hours["work_start"],
        work_end=hours["work_end"],
        holidays=frozenset(holidays),
    )


def add_business_days(start: datetime, days: int, calendar: CompanyCalendar) -> datetime:
    """`days` working days after (before, when negative) `start` in the calendar's time
    zone, at the same local time of day; the answer is UTC."""
    zone = ZoneInfo(calendar.timezone)
    local = start.astimezone(zone)
    day, step, left = local.date(), 1 if days >= 0 else -1, abs(days)
    while left:
        day += timedelta(days=step)
        if calendar.is_working_day(day):
            left -= 1
    moved = datetime.combine(day, time(local.hour, local.minute, local.second), tzinfo=zone)
    return moved.astimezone(UTC)


def parse_offset(text: str) -> timedelta:
    """An ISO 8601 duration of weeks, days, hours, minutes, seconds (`-P1D`, `PT2H`)."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if match is None or text.strip().lstrip("+-") in ("P", "PT"):
        raise ValueError("must be an ISO 8601 duration such as -P1D or PT2H")
    parts = {k: int(v) for k, v in match.groupdict().items() if v and k != "sign"}
    seconds = (
        parts.get("weeks", 0) * 7 * 86400
        + parts.get("days", 0) * 86400
        + parts.get("hours", 0) * 3600
        + parts.get("minutes", 0) * 60
        + parts.get("seconds", 0)
    )
    return timedelta(seconds=-seconds if match.group("sign") == "-" else seconds)


def check_offset(raw: Any, path: str, date_fields: set[str]) -> list[FieldProblem]:
    """Problems of a delay / deadline offset (see the module's docstring)."""
    if not isinstance(raw, dict) or not raw:
        return [FieldProblem(path, "must be an object: seconds, days, business_days or field")]
    if "field" in raw:
        problems = []
        if set(raw) - {"field", "offset"}:
            problems.append(FieldProblem(path, "a field offset takes only field and offset"))
        if not isinstance(raw["field"], str) or raw["field"] not in date_fields:
            problems.append(FieldProblem(f"{path}.field", "must be a date field of the pipeline"))
        try:
            parse_offset(raw.get("offset", "PT0S"))
        except ValueError as exc:
            problems.append(FieldProblem(f"{path}.offset", str(exc)))
        return problems
    if "business_days" in raw:
        days = raw["business_days"]
        if set(raw) != {"business_days"}:
            return [FieldProblem(path, "business_days cannot be combined with other units")]
        if not isinstance(days, int) or isinstance(days, bool) or abs(days) > MAX_BUSINESS_DAYS:
            return [FieldProblem(f"{path}.business_days", "must be a whole number of days")]
        return []
    problems = [
        FieldProblem(f"{path}.{k}", "is not a unit of a delay") for k in raw if k not in _UNITS
    ]
    for unit in set(raw) & set(_UNITS):
        value = raw[unit]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            problems.append(FieldProblem(f"{path}.{unit}", "must be a whole number ≥ 0"))
    if not problems and seconds_of(raw) > MAX_SECONDS:
        problems.append(FieldProblem(path, "must be at most five years"))
    return problems


def seconds_of(raw: Mapping[str, Any]) -> int:
    return sum(int(raw.get(unit, 0)) * factor for unit, factor in _UNITS.items())


def apply_offset(
    start: datetime,
    raw: Mapping[str, Any] | None,
    calendar: CompanyCalendar,
    field_value: Callable[[str], Any],
) -> datetime | None:
    """`start` moved by the offset; a field offset is from the deal's date field instead
    (None when that field is empty or not a date: nothing to schedule on)."""
    if not raw:
        return start
    if "field" in raw:
        value = field_value(str(raw["field"]))
        base = _moment(value, calendar)
        return None if base is None else base + parse_offset(raw.get("offset", "PT0S"))
    if "business_days" in raw:
        return add_business_days(start, int(raw["business_days"]), calendar)
    return start + timedelta(seconds=seconds_of(raw))


def _moment(value: Any, calendar: CompanyCalendar) -> datetime | None:
    """A date field's value as a moment: a date is its start of the working day."""
    if not isinstance(value, str):
        return None
    try:
        if "T" in value.upper():
            parsed = datetime.fromisoformat(value.replace("z", "Z"))
            return parsed if parsed.tzinfo else None
        day = date.fromisoformat(value)
    except ValueError:
        return None
    hour, minute = (int(p) for p in calendar.work_start.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(calendar.timezone)).astimezone(
        UTC
    )
