"""SM-2 Sample return, end to end through the gateway against the whole stack.

The return date lies in the past, so the control timer is already due when the samples are
handed: the real Temporal server fires it at once and the head gets the escalation. (The
timer's exact timing is tested on the time-skipping server in tests/unit/workflows.)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from temporalio.client import Client, WorkflowExecutionStatus

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually, login, problem
from tests.e2e.test_deals_flow import create_user, sales_pipeline


async def open_task(client: httpx.AsyncClient, deal_id: int, kind: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        resp = await client.get(
            "/tasks", params={"assignee": "me", "deal_id": deal_id, "status": "open"}
        )
        assert resp.status_code == 200, resp.text
        return next((t for t in resp.json()["items"] if t["kind"] == kind), None)

    return await eventually(probe, what=f"an open {kind} task")


async def test_sm_2_sample_return(stack: Stack, admin: httpx.AsyncClient) -> None:
    pipeline = await sales_pipeline(admin)
    head = await create_user(admin, "head_of_sales")
    manager = await create_user(admin, "manager")
    # The manager's department is the head's: with no department the escalation would go
    # to the first head of sales of the install, whichever test of the shared stack made it.
    department = await admin.post(
        "/departments", json={"name": f"Samples {manager['id']}", "head_id": head["id"]}
    )
    assert department.status_code == 201, department.text
    joined = await admin.patch(
        f"/users/{manager['id']}", json={"department_id": department.json()["id"]}
    )
    assert joined.status_code == 200, joined.text
    as_manager = await login(stack.gateway_url, manager["email"], manager["password"])
    as_head = await login(stack.gateway_url, head["email"], head["password"])

    deal = (
        await as_manager.post(
            "/deals", json={"pipeline_id": pipeline["id"], "title": "Samples for Acme"}
        )
    ).json()
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()

    resp = await as_manager.post(
        f"/deals/{deal['id']}/processes", json={"process": "sample_return", "params": {}}
    )
    assert resp.status_code == 422, "return_by is required"
    resp = await as_manager.post(
        f"/deals/{deal['id']}/processes",
        json={"process": "sample_return", "params": {"return_by": yesterday}},
    )
    assert resp.status_code == 201, resp.text
    workflow_id = resp.json()["workflow_id"]
    assert workflow_id == f"deal-{deal['id']}/sample-return/1"

    hand_over = await open_task(as_manager, deal["id"], "sample_return.hand_over")
    url = f"/tasks/{hand_over['id']}/complete"
    assert (
        await as_head.post(url, json={"outcome": "handed", "data": {"handed_on": yesterday}})
    ).status_code in (403, 404)
    resp = await as_manager.post(url, json={"outcome": "lost", "data": {"handed_on": yesterday}})
    assert resp.status_code == 422 and problem(resp)["status"] == 422
    assert (await as_manager.post(url, json={"outcome": "handed", "data": {}})).status_code == 422
    resp = await as_manager.post(url, json={"outcome": "handed", "data": {"handed_on": yesterday}})
    assert resp.status_code == 200, resp.text
    # Repeating the recorded answer (a retry whose response was lost) is 200; another is 409.
    assert (
        await as_manager.post(url, json={"outcome": "handed", "data": {"handed_on": yesterday}})
    ).status_code == 200
    assert (
        await as_manager.post(url, json={"outcome": "handed", "data": {"handed_on": "2020-01-01"}})
    ).status_code == 409

    # The return date has passed: the head is told and gets a task, the process goes on.
    await open_task(as_head, deal["id"], "sample_return.overdue")

    async def head_notified() -> bool:
        items = (await as_head.get("/notifications")).json()["items"]
        return any(str(n.get("deal_id")) == str(deal["id"]) for n in items)

    await eventually(head_notified, what="the overdue notification to the head")

    control = await open_task(as_manager, deal["id"], "sample_return.control")
    resp = await as_manager.post(f"/tasks/{control['id']}/complete", json={"outcome": "returned"})
    assert resp.status_code == 200, resp.text
    confirm = await open_task(as_head, deal["id"], "sample_return.confirm")
    resp = await as_head.post(f"/tasks/{confirm['id']}/complete", json={"outcome": "confirmed"})
    assert resp.status_code == 200, resp.text
    send_back = await open_task(as_manager, deal["id"], "sample_return.send_back")
    today = date.today().isoformat()
    resp = await as_manager.post(
        f"/tasks/{send_back['id']}/complete",
        json={"outcome": "sent", "data": {"sent_on": today, "tracking": "CDEK 123"}},
    )
    assert resp.status_code == 200, resp.text

    temporal = await Client.connect(stack.temporal_address, namespace=stack.namespace)
    handle = temporal.get_workflow_handle(workflow_id)
    await handle.result()
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED

    async def found_by_deal_id() -> list[str]:
        return [wf.id async for wf in temporal.list_workflows(f'DealId = "{deal["id"]}"')]

    assert workflow_id in await eventually(found_by_deal_id, what="the workflow by DealId")

    processes = (await as_manager.get(f"/deals/{deal['id']}/processes")).json()
    listed = processes["items"] if isinstance(processes, dict) else processes
    assert any(p.get("id", p.get("workflow_id")) == workflow_id for p in listed)

    texts = " | ".join(
        e["text"] for e in (await as_manager.get(f"/deals/{deal['id']}/timeline")).json()["items"]
    )
    for fragment in ("handed", "overdue", "returned", "sent back"):
        assert fragment in texts.lower(), f"timeline lacks '{fragment}': {texts}"
    await as_manager.aclose()
    await as_head.aclose()
