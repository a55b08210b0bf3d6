"""Leadership alerts (SN-9), as plain rules over what the deals service reads:

- the heads' daily **digest** of clients to check with their managers: an open deal whose
  last touch (its last done activity, or its creation) is `stale_days` old or more, or
  whose next planned activity is overdue; one notification per head and local day;
- an open deal with **no planned next activity** alerts its manager, and once the grace
  period has passed since it lost its last one (since its last done activity or its
  creation), the manager's head; each once per such spell;
- the **end-of-day check**: what is still in the first stage of a pipeline or lead funnel
  goes to the head of its responsible, one notification per head and local day.

Every alert carries its own idempotency key, so a check that runs twice notifies once (a
summary's key holds a fingerprint of its lines: a changed one is sent anew).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.deals.domain.calendar import CompanyCalendar

LOOKAHEAD_DAYS = 400  # a calendar with no working day in a year has none to alert on


@dataclass(frozen=True)
class OpenDeal:
    id: int
    title: str
    client: str
    responsible_id: int
    created_at: datetime
    last_done: datetime | None  # the last done activity
    next_due: datetime | None  # the earliest planned activity


@dataclass(frozen=True)
class StageRecord:
    record: str  # deal | lead
    id: int
    title: str
    pipeline: str
    stage: str
    responsible_id: int
    stage_id: int = 0


@dataclass(frozen=True)
class Alert:
    user_id: int
    kind: str
    title: str
    body: str
    key: str
    deal_id: int | None = None

    def view(self) -> dict[str, Any]:
        return {
            "user_id": str(self.user_id),
            "kind": self.kind,
            "title": self.title,
            "body": self.body,
            "deal_id": str(self.deal_id or ""),
            "key": self.key,
        }


def why_check(deal: OpenDeal, *, now: datetime, stale_days: int) -> str | None:
    """Why a head should check the deal's client with its manager, or None."""
    if deal.next_due is not None and deal.next_due < now:
        return f"next activity overdue since {deal.next_due:%Y-%m-%d %H:%M} UTC"
    touched = deal.last_done or deal.created_at
    idle = (now - touched).days
    if idle >= stale_days:
        return f"no activity for {idle} days"
    return None


def digest(
    deals: Iterable[OpenDeal],
    *,
    heads: Mapping[int, int],
    names: Mapping[int, str],
    now: datetime,
    stale_days: int,
    day: date,
) -> list[Alert]:
    lines: dict[int, list[str]] = {}
    for deal in deals:
        why = why_check(deal, now=now, stale_days=stale_days)
        head = heads.get(deal.responsible_id)
        if why is None or head is None:
            continue
        manager = names.get(deal.responsible_id, f"user {deal.responsible_id}")
        client = f" ({deal.client})" if deal.client else ""
        lines.setdefault(head, []).append(f"#{deal.id} {deal.title}{client} — {manager}: {why}")
    return [
        Alert(
            user_id=head,
            kind="leadership_digest",
            title=f"Clients to check with your managers: {len(found)}",
            body="\n".join(found),
            key=f"digest/{head}/{day.isoformat()}/{_digest_of(found)}",
        )
        for head, found in sorted(lines.items())
    ]


def unplanned(
    deals: Iterable[OpenDeal], *, heads: Mapping[int, int], now: datetime, grace: timedelta
) -> list[Alert]:
    alerts: list[Alert] = []
    for deal in deals:
        if deal.next_due is not None:
            continue
        since = deal.last_done or deal.created_at
        key = f"unplanned/{deal.id}/{since.isoformat()}"
        alerts.append(
            Alert(
                user_id=deal.responsible_id,
                kind="no_next_activity",
                title=f"Plan the next activity on deal #{deal.id} {deal.title}",
                body="An open deal needs a planned call, e-mail or meeting.",
                key=f"{key}/manager",
                deal_id=deal.id,
            )
        )
        head = heads.get(deal.responsible_id)
        if head is not None and now - since >= grace:
            alerts.append(
                Alert(
                    user_id=head,
                    kind="no_next_activity",
                    title=f"Deal #{deal.id} {deal.title} has no next activity",
                    body=f"Nothing planned since {since:%Y-%m-%d %H:%M} UTC; its manager was told.",
                    key=f"{key}/head",
                    deal_id=deal.id,
                )
            )
    return alerts


def first_stage(
    records: Iterable[StageRecord], *, heads: Mapping[int, int], day: date
) -> list[Alert]:
    lines: dict[int, list[str]] = {}
    for r in records:
        head = heads.get(r.responsible_id)
        if head is not None:
            lines.setdefault(head, []).append(
                f"{r.record} #{r.id} {r.title} — {r.pipeline}: {r.stage}"
            )
    return [
        Alert(
            user_id=head,
            kind="first_stage_left",
            title=f"Left in a first stage at the end of the day: {len(found)}",
            body="\n".join(found),
            key=f"first-stage/{head}/{day.isoformat()}/{_digest_of(found)}",
        )
        for head, found in sorted(lines.items())
    ]


def _digest_of(lines: list[str]) -> str:
    """A short fingerprint of a summary: the same summary twice a day is sent once, a
    changed one (asked for again later that day) is sent anew."""
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:12]


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def next_working_time(now: datetime, calendar: CompanyCalendar, at: str) -> datetime:
    """The first moment after `now` that is `at` (local "HH:MM") on a working day of the
    calendar, in UTC."""
    zone = ZoneInfo(calendar.timezone)
    day = now.astimezone(zone).date()
    for _ in range(LOOKAHEAD_DAYS):
        moment = datetime.combine(day, _hhmm(at), tzinfo=zone).astimezone(UTC)
        if moment > now and calendar.is_working_day(day):
            return moment
        day += timedelta(days=1)
    raise ValueError("the company calendar has no working day in a year")


def local_day(now: datetime, calendar: CompanyCalendar) -> date:
    return now.astimezone(ZoneInfo(calendar.timezone)).date()
