"""SM-1's plain rules: when a call back may be, and when it is due."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta


def call_back_problem(call_on: str, today: date) -> str | None:
    """What is wrong with a call-back date (YYYY-MM-DD) given today, or None."""
    try:
        day = date.fromisoformat(call_on)
    except (TypeError, ValueError):
        return f"'call_on' must be an ISO date (YYYY-MM-DD), got {call_on!r}"
    if day < today:
        return f"'call_on' must be today or later, got {call_on}"
    return None


def call_back_window(call_on: date) -> tuple[datetime, datetime]:
    """When the new call task appears (the start of the day, UTC) and when it is due (the
    day's last second)."""
    start = datetime.combine(call_on, time(), UTC)
    return start, start + timedelta(days=1, seconds=-1)
