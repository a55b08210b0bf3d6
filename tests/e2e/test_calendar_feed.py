"""Each user's iCalendar feed, end to end: a secret URL any calendar app fetches without
signing in, holding the user's open task with a deadline (made by a rule), planned
activity and deal deadline (a date field); a moved deadline moves there under the same UID;
another user's dates are not in it; a new URL revokes the old, and a revoked one is 404."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually
from tests.e2e.test_pit_2_new_client_onboarding import Staff, post
from tests.e2e.test_pit_2_new_client_onboarding import staff as staff  # the fixture


def unfolded(text: str) -> str:
    return text.replace("\r\n ", "")


async def test_calendar_feed(stack: Stack, admin: httpx.AsyncClient, staff: Staff) -> None:
    tag = uuid.uuid4().hex[:6]
    manager = await staff.add("manager", "manager")
    other = await staff.add("other", "manager")
    pipeline = await post(
        admin, "/pipelines", {"name": f"Promo {tag}", "stages": [{"name": "Brief"}]}
    )
    await post(
        admin,
        f"/pipelines/{pipeline['id']}/fields",
        {"code": "deadline", "name": "Deadline", "type": "date"},
    )
    await post(
        admin,
        f"/pipelines/{pipeline['id']}/rules",
        {
            "name": "Call back",
            "trigger": {"event": "created"},
            "actions": [
                {
                    "type": "create_task",
                    "title": f"Call back {tag}",
                    "assignee": {"kind": "responsible"},
                    "deadline": {"days": 2},
                }
            ],
        },
    )
    deal = await post(
        manager.client,
        "/deals",
        {
            "pipeline_id": pipeline["id"],
            "title": f"Stand {tag}",
            "fields": {"deadline": "2027-01-15"},
        },
    )
    due = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    await post(
        manager.client,
        f"/deals/{deal['id']}/activities",
        {"kind": "meeting", "due_at": due.isoformat(), "subject": f"Layout {tag}"},
    )
    await post(
        other.client,
        "/deals",
        {
            "pipeline_id": pipeline["id"],
            "title": f"Not mine {tag}",
            "fields": {"deadline": "2027-02-01"},
        },
    )

    made = await post(manager.client, "/me/calendar-feed", {})
    url = made["url"]
    assert url.endswith(".ics") and "/api/v1/calendar-feeds/" in url
    anyone = httpx.AsyncClient(timeout=30)  # a calendar app: no sign-in

    async def with_task() -> str | None:
        resp = await anyone.get(url)
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"].startswith("text/calendar")
        text = unfolded(resp.text)
        return text if f"Task: Call back {tag}" in text else None

    feed = await eventually(with_task, timeout=30, what="the rule's task in the feed")
    assert feed.startswith("BEGIN:VCALENDAR\r\n") and feed.endswith("END:VCALENDAR\r\n")
    assert f"SUMMARY:Meeting: Layout {tag}" in feed
    assert f"DTSTART:{due:%Y%m%dT%H%M%SZ}" in feed
    uid = f"UID:deal-{deal['id']}-deadline@dealflow"
    assert uid in feed and "DTSTART;VALUE=DATE:20270115" in feed
    assert f"Not mine {tag}" not in feed

    # The deadline moves: the same event, on the new date.
    resp = await manager.client.patch(
        f"/deals/{deal['id']}",
        json={"fields": {"deadline": "2027-01-20"}},
        headers={"If-Match": str(deal["version"])},
    )
    assert resp.status_code == 200, resp.text
    moved = unfolded((await anyone.get(url)).text)
    event = moved[moved.index(uid) :].split("END:VEVENT")[0]
    assert "DTSTART;VALUE=DATE:20270120" in event and moved.count(uid) == 1

    # A new URL revokes the old; a revoked one is gone.
    again = await post(manager.client, "/me/calendar-feed", {})
    assert (await anyone.get(url)).status_code == 404
    assert (await anyone.get(again["url"])).status_code == 200
    resp = await manager.client.delete("/me/calendar-feed")
    assert resp.status_code == 204, resp.text
    assert (await anyone.get(again["url"])).status_code == 404
    await anyone.aclose()
