"""Live events (`GET /api/v1/events`) through a real SSE client against the whole stack: a
manager's stream carries their deals' changes and chat messages and never a colleague's
deal; it resumes from Last-Event-ID with what it missed; it beats while idle; a deal given
to a colleague goes quiet on it; a deactivated user's stream ends."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from deploy.local.stack import Stack
from tests.e2e.sse_client import EventStream, Frame
from tests.e2e.test_pit_2_new_client_onboarding import Staff, post
from tests.e2e.test_pit_2_new_client_onboarding import staff as staff  # the fixture


def about(deal_id: int, kind: str | None = None) -> Any:
    def want(frame: Frame) -> bool:
        return deal_ids_in(frame) == {deal_id} and (kind is None or frame.event == kind)

    return want


def deal_ids_in(frame: Frame) -> set[int]:
    """The deals a frame tells of (its subject, and a task's or a notification's deal)."""
    ids = set()
    subject = str(frame.data.get("subject", ""))
    if subject.startswith("deal/"):
        ids.add(int(subject[5:]))
    data = frame.data.get("data") or {}
    for part in ("deal", "task", "notification", "message"):
        value = (data.get(part) or {}).get("deal_id" if part != "deal" else "id")
        if value:
            ids.add(int(value))
    return ids


async def patch_deal(client: httpx.AsyncClient, deal_id: int, body: dict[str, Any]) -> None:
    etag = (await client.get(f"/deals/{deal_id}")).headers["etag"]
    resp = await client.patch(f"/deals/{deal_id}", json=body, headers={"If-Match": etag})
    assert resp.status_code == 200, resp.text


async def test_live_events(stack: Stack, admin: httpx.AsyncClient, staff: Staff) -> None:
    tag = uuid.uuid4().hex[:6]
    sales = await post(admin, "/departments", {"name": f"Sales {tag}"})
    m1 = await staff.add("m1", "manager", sales["id"])
    m2 = await staff.add("m2", "manager", sales["id"])
    stages = [{"name": "New", "semantic": "in_progress"}, {"name": "Won", "semantic": "won"}]
    pipeline = await post(admin, "/pipelines", {"name": f"Live {tag}", "stages": stages})

    async def deal(who: Any, title: str) -> dict[str, Any]:
        return await post(who.client, "/deals", {"pipeline_id": pipeline["id"], "title": title})

    async with EventStream(m1.client) as s1, EventStream(m2.client) as s2:
        ready, _ = await s1.until(lambda f: f.event == "ready")
        await s2.until(lambda f: f.event == "ready")
        assert s1.status == 200 and ready.id

        d1 = await deal(m1, "Mine")
        d2 = await deal(m2, "Theirs")
        created, before = await s1.until(about(d1["id"], "deals.deal.created"))
        assert created.data["data"]["deal"]["title"] == "Mine"
        await s1.until(about(d1["id"], "notifications.chat.message_posted"))  # the opening
        await s2.until(about(d2["id"], "deals.deal.created"))

        # a later change of m1's deal: once it is here, d2's events were filtered out
        await patch_deal(m1.client, d1["id"], {"title": "Mine 2"})
        updated, between = await s1.until(about(d1["id"], "deals.deal.updated"))
        assert all(d2["id"] not in deal_ids_in(f) for f in [*before, *between])

        # a chat message arrives live
        await post(m1.client, f"/deals/{d1['id']}/chat", {"body": "hello"})
        posted, _ = await s1.until(about(d1["id"], "notifications.chat.message_posted"))
        assert posted.data["data"]["message"]["body"] == "hello"
        resume_from = posted.id

        # idle: heartbeats (the stack beats each second)
        beat, _ = await s2.until(lambda f: f.event == "heartbeat", timeout=10)
        assert beat.id is None

    # what happened while m1 was away comes on reconnecting with Last-Event-ID
    await patch_deal(m1.client, d1["id"], {"title": "Mine 3"})
    async with EventStream(m1.client, last_event_id=resume_from) as again:
        ready, _ = await again.until(lambda f: f.event == "ready")
        assert ready.id == resume_from
        missed, _ = await again.until(about(d1["id"], "deals.deal.updated"))
        assert missed.data["data"]["after"]["title"] == "Mine 3"

        # the deal goes to m2: m1 hears nothing more of it
        await patch_deal(admin, d1["id"], {"responsible_id": m2.id})
        await post(m2.client, f"/deals/{d1['id']}/chat", {"body": "mine now"})
        d3 = await deal(m1, "Next")
        _, quiet = await again.until(about(d3["id"], "deals.deal.created"))
        late = [f for f in quiet if d1["id"] in deal_ids_in(f)]
        assert all(f.data["data"].get("after", {}).get("title") == "Mine 3" for f in late), late

    # a deactivated user's stream ends (checked every 5 s)
    async with EventStream(m2.client) as s2:
        await s2.until(lambda f: f.event == "ready")
        resp = await admin.patch(f"/users/{m2.id}", json={"active": False})
        assert resp.status_code == 200, resp.text
        end, _ = await s2.until(lambda f: f.event == "end", timeout=20)
        assert await s2.next() is None
