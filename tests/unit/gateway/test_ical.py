"""The iCalendar text of a feed: escaped text, folded lines, all-day and timed events."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.gateway.ical import Event, render

NOW = datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_events_render_as_rfc_5545() -> None:
    text = render(
        [
            Event(
                "a@x", "Call; then, write\\", datetime(2027, 1, 10, 9, 30, tzinfo=UTC), "two\nlines"
            ),
            Event("b@x", "Deadline", date(2027, 1, 15)),
            Event("c@x", "Long " + "é" * 80, date(2027, 1, 16)),
        ],
        name="Dealflow",
        now=NOW,
    )
    lines = text.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert "SUMMARY:Call\\; then\\, write\\\\" in lines
    assert "DESCRIPTION:two\\nlines" in lines
    assert "DTSTART:20270110T093000Z" in lines and "DTEND:20270110T100000Z" in lines
    assert "DTSTART;VALUE=DATE:20270115" in lines and "DTEND;VALUE=DATE:20270116" in lines
    assert all(len(line.encode()) <= 75 for line in lines)
    assert any(line.startswith(" é") for line in lines)  # folded, continued with a space
    assert text.count("DTSTAMP:20270102T030405Z") == 3
