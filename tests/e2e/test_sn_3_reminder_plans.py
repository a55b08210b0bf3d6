"""Activities and SN-3 reminder plans, end to end through the gateway against the whole
stack.

Activities: a meeting planned on a deal is the deal's next activity in lists and on its
card; a call logged done is on the timeline and fires the pipeline's `activity_logged`
rule; marking the meeting done leaves the deal with no next activity; bad input is a 422
naming the field; another manager does not see the deal's activities.

SN-3: a plan on a client's deal (the needs, calls twice a month, a letter a quarter) makes
each channel's first reminder at once for the responsible (a planned activity and a
notification) through its long-lived workflow; a new frequency recomputes the next due date
at once from the last reminder, a call logged by hand restarts the calls' clock; stopping
the plan ends its workflow. The schedule over years: tests/integration/workflows/
test_reminder_plan.py on the time-skipping server.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from temporalio.client import Client, WorkflowExecutionStatus

from deploy.local.stack import Stack
from services.deals.domain.reminder_plans import Frequency
from tests.e2e.conftest import eventually, problem
from tests.e2e.test_pit_2_new_client_onboarding import Person, Staff, post
from tests.e2e.test_pit_2_new_client_onboarding import staff as staff  # the fixture


async def get(who: Person, path: str, **params: Any) -> Any:
    resp = await who.client.get(path, params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def setup(admin: httpx.AsyncClient, staff: Staff, name: str) -> tuple[Person, int, int]:
    """A manager, and a pipeline with a deal of theirs: (manager, pipeline id, deal id)."""
    tag = uuid.uuid4().hex[:6]
    manager = await staff.add("manager", "manager")
    pipeline = await post(
        admin,
        "/pipelines",
        {"name": f"{name} {tag}", "stages": [{"name": "Clients"}, {"name": "Later"}]},
    )
    deal = await post(
        manager.client,
        "/deals",
        {"pipeline_id": pipeline["id"], "title": f"Acme {tag}", "company_name": "Acme"},
    )
    return manager, pipeline["id"], deal["id"]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_activities_on_a_deal(stack: Stack, admin: httpx.AsyncClient, staff: Staff) -> None:
    manager, pipeline_id, deal_id = await setup(admin, staff, "Activities")
    await post(
        admin,
        f"/pipelines/{pipeline_id}/rules",
        {
            "name": "First touch",
            "trigger": {"event": "activity_logged", "kind": "call"},
            "actions": [{"type": "add_timeline_note", "text": "First touch made"}],
        },
    )
    due = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    meeting = await post(
        manager.client,
        f"/deals/{deal_id}/activities",
        {"kind": "meeting", "due_at": due.isoformat(), "subject": "Show the samples"},
    )
    assert (meeting["status"], meeting["assignee_id"]) == ("planned", manager.id)
    card = await get(manager, f"/deals/{deal_id}")
    assert card["next_activity"]["id"] == meeting["id"]
    listed = await get(manager, "/deals", pipeline_id=pipeline_id)
    assert [d["next_activity"]["id"] for d in listed["items"]] == [meeting["id"]]
    assert at(listed["items"][0]["next_activity"]["due_at"]) == due

    call = await post(
        manager.client,
        f"/deals/{deal_id}/activities",
        {"kind": "call", "status": "done", "outcome": "interested", "notes": "wants a price"},
    )
    assert call["status"] == "done" and call["done_at"]

    async def noted() -> list[dict[str, Any]] | None:
        items = (await get(manager, f"/deals/{deal_id}/timeline"))["items"]
        return items if any(e["text"] == "First touch made" for e in items) else None

    timeline = await eventually(noted, timeout=30, what="the activity_logged rule's note")
    kinds = {e["kind"] for e in timeline}
    assert {"activity_planned", "call", "note"} <= kinds, kinds

    done = await manager.client.post(
        f"/activities/{meeting['id']}/done", json={"outcome": "samples liked"}
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done"
    assert (await get(manager, f"/deals/{deal_id}"))["next_activity"] is None
    mine = await get(manager, "/activities", assignee="me")
    assert {a["id"] for a in mine} == {meeting["id"], call["id"]}
    assert [a["id"] for a in await get(manager, f"/deals/{deal_id}/activities", status="done")]

    # Bad input changes nothing; another manager does not see the deal.
    resp = await manager.client.post(f"/deals/{deal_id}/activities", json={"kind": "meeting"})
    assert resp.status_code == 422 and problem(resp)["errors"][0]["field"] == "due_at", resp.text
    resp = await manager.client.post(
        f"/deals/{deal_id}/activities", json={"kind": "fax", "status": "done"}
    )
    assert resp.status_code == 422 and "kind" in resp.text, resp.text
    assert len(await get(manager, f"/deals/{deal_id}/activities")) == 2
    other = await staff.add("other", "manager")
    resp = await other.client.post(
        f"/deals/{deal_id}/activities", json={"kind": "call", "status": "done"}
    )
    assert resp.status_code == 404, resp.text


async def test_sn_3_reminder_plans(stack: Stack, admin: httpx.AsyncClient, staff: Staff) -> None:
    manager, _, deal_id = await setup(admin, staff, "Reminder")
    resp = await manager.client.post(
        "/reminder-plans",
        json={"deal_id": deal_id, "frequencies": {"calls": {"count": 2, "per": "week"}}},
    )
    assert resp.status_code == 422 and "frequencies.calls.per" in resp.text, resp.text

    plan = await post(
        manager.client,
        "/reminder-plans",
        {
            "deal_id": deal_id,
            "needs": ["catalogue", "samples"],
            "frequencies": {
                "calls": {"count": 2, "per": "month"},
                "letters": {"count": 1, "per": "quarter"},
            },
        },
    )
    assert plan["status"] == "active" and plan["responsible_id"] == manager.id

    async def reminders() -> list[dict[str, Any]] | None:
        found = await get(manager, f"/deals/{deal_id}/activities", status="planned")
        return found if len(found) == 2 else None

    made = await eventually(reminders, timeout=30, what="the first reminder of each channel")
    assert {a["kind"] for a in made} == {"call", "email"}
    assert all(a["plan_id"] == plan["id"] and a["assignee_id"] == manager.id for a in made)
    assert all(a["subject"].endswith("catalogue, samples") for a in made)
    call = next(a for a in made if a["kind"] == "call")

    async def noticed() -> list[dict[str, Any]] | None:
        items = (await get(manager, "/notifications"))["items"]
        found = [n for n in items if n["kind"] == "reminder_plan.reminder"]
        return found if len(found) == 2 else None

    await eventually(noticed, timeout=30, what="the reminders' notifications")
    half_month = Frequency(2, "month").interval()

    async def rescheduled() -> dict[str, Any] | None:
        view: dict[str, Any] = await get(manager, f"/reminder-plans/{plan['id']}")
        return view if at(view["next_due"]["calls"]) == at(call["due_at"]) + half_month else None

    await eventually(rescheduled, what="the next call due half a month after the first")
    temporal = await Client.connect(stack.temporal_address, namespace=stack.namespace)
    handle = temporal.get_workflow_handle(plan["workflow_id"])
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING

    # Four calls a month: recomputed at once from the last call reminder.
    resp = await manager.client.patch(
        f"/reminder-plans/{plan['id']}",
        json={"frequencies": {"calls": {"count": 4, "per": "month"}}},
    )
    assert resp.status_code == 200, resp.text
    week = Frequency(4, "month").interval()
    assert at(resp.json()["next_due"]["calls"]) == at(call["due_at"]) + week
    assert "letters" not in resp.json()["next_due"]  # the letters were dropped from the plan

    # A call logged by hand restarts the calls' clock from it.
    logged = await post(
        manager.client, f"/deals/{deal_id}/activities", {"kind": "call", "status": "done"}
    )
    view = await get(manager, f"/reminder-plans/{plan['id']}")
    assert at(view["next_due"]["calls"]) == at(logged["done_at"]) + week

    resp = await manager.client.patch(f"/reminder-plans/{plan['id']}", json={"status": "stopped"})
    assert resp.status_code == 200 and resp.json()["next_due"] == {}, resp.text

    async def ended() -> bool:
        return (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED

    await eventually(ended, timeout=30, what="the plan's workflow to end")
    assert await handle.result() == "stopped"
    assert [p["id"] for p in await get(manager, "/reminder-plans", deal_id=deal_id)] == [plan["id"]]
