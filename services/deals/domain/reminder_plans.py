"""Reminder plans (SN-3): per client (a contact) or per deal, the needs list and a
frequency per channel (letters, calls, meetings: N per year, quarter or month). The plan's
workflow creates each channel's next activity when it is due, forever, until the plan is
stopped.

A channel's next due time is one interval (the period divided by N) after the later of
its last done activity (by hand or not: a logged call restarts the calls' clock) and the
due time of the last reminder the plan made (so a reminder nobody did is not made again at
once); a channel with neither is due at once. Changing a frequency recomputes it at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.common.errors import FieldProblem, ValidationFailed

CHANNELS = {"letters": "email", "calls": "call", "meetings": "meeting"}  # channel: kind
KIND_CHANNELS = {kind: channel for channel, kind in CHANNELS.items()}
PERIOD_DAYS = {"year": 365.25, "quarter": 365.25 / 4, "month": 365.25 / 12}
MAX_COUNT = 100  # per period: at most about 3 a day
ACTIVE, STOPPED = "active", "stopped"
NEEDS_LIMIT = 50


@dataclass(frozen=True)
class Frequency:
    count: int
    per: str  # year | quarter | month

    def interval(self) -> timedelta:
        return timedelta(days=PERIOD_DAYS[self.per] / self.count)

    def view(self) -> dict[str, Any]:
        return {"count": self.count, "per": self.per}


def parse_frequencies(raw: Any, path: str = "frequencies") -> dict[str, Frequency]:
    """{channel: Frequency} from `{"calls": {"count": 2, "per": "month"}}`; every problem
    at once, named by field (`frequencies.calls.count`)."""
    if not isinstance(raw, Mapping) or not raw:
        raise ValidationFailed(FieldProblem(path, "name at least one of letters, calls, meetings"))
    found: dict[str, Frequency] = {}
    problems: list[FieldProblem] = []
    for channel, value in raw.items():
        where = f"{path}.{channel}"
        if channel not in CHANNELS:
            problems.append(FieldProblem(where, "must be one of letters, calls, meetings"))
            continue
        if not isinstance(value, Mapping):
            problems.append(FieldProblem(where, 'must be {"count": N, "per": "month"}'))
            continue
        count, per = value.get("count"), value.get("per")
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_COUNT:
            problems.append(FieldProblem(f"{where}.count", f"must be a whole number 1-{MAX_COUNT}"))
        if per not in PERIOD_DAYS:
            problems.append(FieldProblem(f"{where}.per", "must be year, quarter or month"))
        if not problems:
            found[channel] = Frequency(int(count), str(per))  # type: ignore[arg-type]
    if problems:
        raise ValidationFailed(problems)
    return found


def parse_needs(raw: Any, path: str = "needs") -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(n, str) and n.strip() for n in raw):
        raise ValidationFailed(FieldProblem(path, "must be a list of non-empty texts"))
    if len(raw) > NEEDS_LIMIT:
        raise ValidationFailed(FieldProblem(path, f"at most {NEEDS_LIMIT} items"))
    return [n.strip() for n in raw]


def next_due(
    frequency: Frequency,
    *,
    last_done: datetime | None,
    last_reminder: datetime | None,
    started: datetime,
) -> datetime:
    """The channel's next due time (see the module's docstring)."""
    anchors = [a for a in (last_done, last_reminder) if a is not None]
    if not anchors:
        return started
    return max(anchors) + frequency.interval()


def reminder_subject(channel: str, needs: list[str]) -> str:
    what = {"letters": "Write to the client", "calls": "Call the client"}.get(
        channel, "Meet the client"
    )
    return f"{what}: {', '.join(needs)}" if needs else what
