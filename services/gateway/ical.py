"""iCalendar (RFC 5545) text of a person's feed: plain events with stable UIDs, so a
calendar app that fetches the feed again moves an event whose time changed instead of
adding a second one. Text is escaped and lines folded at 75 octets as the RFC says."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

TIMED_EVENT = timedelta(minutes=30)
PRODID = "-//Dealflow//Calendar feed//EN"


@dataclass(frozen=True)
class Event:
    uid: str  # e.g. "task-12@dealflow": stable across fetches
    summary: str
    start: datetime | date  # a date: an all-day event
    description: str = ""


def _text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> list[str]:
    """Lines of at most 75 octets, continued with a leading space."""
    out: list[str] = []
    current = ""
    for char in line:
        limit = 75 if not out else 74
        if len((current + char).encode()) > limit:
            out.append(current)
            current = char
        else:
            current += char
    out.append(current)
    return [out[0], *(" " + part for part in out[1:])]


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _when(event: Event) -> list[str]:
    if isinstance(event.start, datetime):
        return [f"DTSTART:{_utc(event.start)}", f"DTEND:{_utc(event.start + TIMED_EVENT)}"]
    end = event.start + timedelta(days=1)
    return [f"DTSTART;VALUE=DATE:{event.start:%Y%m%d}", f"DTEND;VALUE=DATE:{end:%Y%m%d}"]


def render(events: Iterable[Event], *, name: str, now: datetime) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    lines.append(f"X-WR-CALNAME:{_text(name)}")
    for event in events:
        lines += ["BEGIN:VEVENT", f"UID:{event.uid}", f"DTSTAMP:{_utc(now)}", *_when(event)]
        lines.append(f"SUMMARY:{_text(event.summary)}")
        if event.description:
            lines.append(f"DESCRIPTION:{_text(event.description)}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(part + "\r\n" for line in lines for part in _fold(line))
