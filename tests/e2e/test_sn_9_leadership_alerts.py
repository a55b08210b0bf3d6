"""SN-9 Leadership reminders, end to end through the gateway against the whole stack: the
one `leadership-alerts` workflow the worker starts runs each check at its time on the
company calendar (tests/integration/workflows/test_reminder_plan.py shows the times on the
time-skipping server); here an admin asks for each check at once, as its time would.

An open deal with no planned next activity alerts its manager (its head only after the
grace period: tests/integration/deals/test_activities.py); the head's digest lists the
client whose next activity is overdue; the end-of-day check sends the head what is left in
the first stage, which `GET /reports/first-stage` lists too, and a deal moved on leaves it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from temporalio.client import Client, WorkflowExecutionStatus

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually
from tests.e2e.test_pit_2_new_client_onboarding import Person, Staff, post
from tests.e2e.test_pit_2_new_client_onboarding import staff as staff  # the fixture
from workflows.activities.reminder_types import ALERTS_WORKFLOW_ID


async def feed(who: Person, kind: str) -> list[dict[str, Any]]:
    resp = await who.client.get("/notifications")
    assert resp.status_code == 200, resp.text
    return [n for n in resp.json()["items"] if n["kind"] == kind]


async def told(who: Person, kind: str, *, containing: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        found = [n for n in await feed(who, kind) if containing in n["title"] + n["body"]]
        return found[0] if found else None

    return await eventually(probe, timeout=30, what=f"a {kind} notification of {containing}")


async def check(admin: httpx.AsyncClient, name: str) -> None:
    resp = await admin.post("/alerts/checks", json={"check": name})
    assert resp.status_code == 202, resp.text


async def first_stage(who: httpx.AsyncClient, pipeline_id: int) -> list[str]:
    resp = await who.get("/reports/first-stage")
    assert resp.status_code == 200, resp.text
    (entry,) = [e for e in resp.json() if e["pipeline_id"] == pipeline_id]
    assert entry["stage"] == "New"
    return [r["title"] for r in entry["records"]]


async def test_sn_9_leadership_alerts(stack: Stack, admin: httpx.AsyncClient, staff: Staff) -> None:
    temporal = await Client.connect(stack.temporal_address, namespace=stack.namespace)
    alerts = temporal.get_workflow_handle(ALERTS_WORKFLOW_ID)
    assert (await alerts.describe()).status == WorkflowExecutionStatus.RUNNING

    tag = uuid.uuid4().hex[:6]
    sales = await post(admin, "/departments", {"name": f"Sales {tag}"})
    manager = await staff.add("manager", "manager", sales["id"])
    head = await staff.add("head", "head_of_sales", sales["id"])
    resp = await admin.patch(f"/departments/{sales['id']}", json={"head_id": head.id})
    assert resp.status_code == 200, resp.text
    pipeline = await post(
        admin,
        "/pipelines",
        {"name": f"Sales {tag}", "stages": [{"name": "New"}, {"name": "Talks"}]},
    )
    talks = pipeline["stages"][1]["id"]
    bare = await post(
        manager.client, "/deals", {"pipeline_id": pipeline["id"], "title": f"Bare {tag}"}
    )
    late = await post(
        manager.client,
        "/deals",
        {"pipeline_id": pipeline["id"], "title": f"Late {tag}", "company_name": "Acme"},
    )
    overdue = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    await post(
        manager.client, f"/deals/{late['id']}/activities", {"kind": "call", "due_at": overdue}
    )

    # No next activity on an open deal: its manager hears; the head not yet (grace period).
    await check(admin, "unplanned")
    alert = await told(manager, "no_next_activity", containing=f"Bare {tag}")
    assert alert["deal_id"] == bare["id"]
    assert not [n for n in await feed(manager, "no_next_activity") if f"Late {tag}" in n["title"]]
    assert not await feed(head, "no_next_activity")

    # The head's digest: the client whose next activity is overdue, with its manager.
    await check(admin, "digest")
    digest = await told(head, "leadership_digest", containing=f"Late {tag}")
    assert "(Acme) — manager" in digest["body"] and "overdue" in digest["body"]
    assert f"Bare {tag}" not in digest["body"]  # touched (made) today, nothing overdue

    # The end of the day: what is left in the first stage goes to the head.
    assert sorted(await first_stage(admin, pipeline["id"])) == [f"Bare {tag}", f"Late {tag}"]
    assert await first_stage(head.client, pipeline["id"]) != []
    resp = await manager.client.post(f"/deals/{late['id']}/move", json={"stage_id": talks})
    assert resp.status_code == 200, resp.text
    assert await first_stage(manager.client, pipeline["id"]) == [f"Bare {tag}"]
    await check(admin, "first_stage")
    left = await told(head, "first_stage_left", containing=f"Bare {tag}")
    assert f"Late {tag}" not in left["body"]

    resp = await manager.client.post("/alerts/checks", json={"check": "digest"})
    assert resp.status_code == 403, resp.text
