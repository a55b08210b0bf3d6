"""SM-1 Proposal follow-up, end to end through the gateway against the whole stack.

Entering "Proposal sent" starts the process (a stage rule). Deal one has no proposal file
yet: the manager attaches it before any call; the client asks to be called back twice
(today, so the durable timer is due at once; its timing is tested on the time-skipping
server) and then agrees: the deal moves to "Contract". Deal two has its file; the client
refuses: a comment is required, the head of sales is notified with the file and the
comment. Deal three waits for its call. Every call stays in the run's state; the proposals
report counts all three for the manager (sent 3, agreed 1, refused 1 with its reason,
pending 1), for the head as for the manager, and nothing for another manager.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from temporalio.client import Client

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually, problem
from tests.e2e.test_pit_2_new_client_onboarding import (
    Person,
    Staff,
    deal_state,
    open_task,
    post,
    upload,
)
from tests.e2e.test_pit_2_new_client_onboarding import staff as staff  # the fixture
from tests.e2e.test_pit_3_shipment_dispatch import answer

PROCESS = "proposal_follow_up"
STAGES = ["New", "Proposal sent", "Contract", "Won", "Lost"]


async def nth_call(who: Person, deal_id: int, n: int) -> dict[str, Any]:
    """The deal's n-th call task (open or not), once it exists."""

    async def probe() -> dict[str, Any] | None:
        resp = await who.client.get("/tasks", params={"assignee": "me", "deal_id": deal_id})
        assert resp.status_code == 200, resp.text
        calls = [t for t in resp.json()["items"] if t["kind"] == f"{PROCESS}.call"]
        return sorted(calls, key=lambda t: int(t["id"]))[n - 1] if len(calls) >= n else None

    return await eventually(probe, timeout=30, what=f"call task #{n}")


async def test_sm_1_proposal_follow_up(
    stack: Stack, admin: httpx.AsyncClient, staff: Staff
) -> None:
    tag = uuid.uuid4().hex[:6]
    sales = await post(admin, "/departments", {"name": f"Agency sales {tag}"})
    manager = await staff.add("manager", "manager", sales["id"])
    head = await staff.add("head", "head_of_sales", sales["id"])
    resp = await admin.patch(f"/departments/{sales['id']}", json={"head_id": head.id})
    assert resp.status_code == 200, resp.text
    semantic = {"Won": "won", "Lost": "lost"}
    stages = [{"name": n, "semantic": semantic.get(n, "in_progress")} for n in STAGES]
    pipeline = await post(admin, "/pipelines", {"name": f"Agency {tag}", "stages": stages})
    stage = {s["name"]: s["id"] for s in pipeline["stages"]}
    field = {"code": "proposal_file", "name": "Proposal", "type": "file"}
    await post(admin, f"/pipelines/{pipeline['id']}/fields", field)
    rule = {"stage_id": stage["Proposal sent"], "event": "enter", "process": PROCESS}
    await post(admin, f"/pipelines/{pipeline['id']}/rules", {**rule, "params": {}})
    today = datetime.now(UTC).date()

    async def send_proposal(title: str, *, with_file: bool) -> tuple[int, str]:
        deal = await post(
            manager.client, "/deals", {"pipeline_id": pipeline["id"], "title": f"{title} {tag}"}
        )
        file_id = str((await upload(manager, deal["id"], "kp.pdf", b"%PDF-1.4 kp")).json()["id"])
        if with_file:
            etag = (await manager.client.get(f"/deals/{deal['id']}")).headers["ETag"]
            resp = await manager.client.patch(
                f"/deals/{deal['id']}",
                json={"fields": {"proposal_file": file_id}},
                headers={"If-Match": etag},
            )
            assert resp.status_code == 200, resp.text
        move = {"stage_id": stage["Proposal sent"]}
        resp = await manager.client.post(f"/deals/{deal['id']}/move", json=move)
        assert resp.status_code == 200, resp.text
        return int(deal["id"]), file_id

    # Deal one: the file first, two call-backs, then agreed.
    one, file_one = await send_proposal("Billboards", with_file=False)
    attach = await open_task(manager, one, f"{PROCESS}.attach")
    url = f"/tasks/{attach['id']}/complete"
    resp = await manager.client.post(url, json={"outcome": "attached", "data": {}})
    assert resp.status_code == 422, "no call without the proposal file"
    await answer(manager, attach, "attached", proposal_file=file_one)
    first = await nth_call(manager, one, 1)
    assert first["deadline"] and first["outcomes"] == ["agreed", "refused", "call_back_later"]
    url = f"/tasks/{first['id']}/complete"
    resp = await manager.client.post(url, json={"outcome": "call_back_later", "data": {}})
    assert resp.status_code == 422, "a call back needs its date"
    yesterday = (today - timedelta(days=1)).isoformat()
    body = {"outcome": "call_back_later", "data": {"call_on": yesterday}}
    assert (await manager.client.post(url, json=body)).status_code == 422
    await answer(manager, first, "call_back_later", call_on=today.isoformat())
    second = await nth_call(manager, one, 2)
    await answer(manager, second, "call_back_later", call_on=today.isoformat())
    third = await nth_call(manager, one, 3)
    await answer(manager, third, "agreed", comment="Send the contract")

    async def in_contract() -> bool:
        return bool((await deal_state(manager, one))["stage_id"] == stage["Contract"])

    await eventually(in_contract, timeout=30, what="deal one in Contract")
    workflow_one = f"deal-{one}/proposal-follow-up/1"
    temporal = await Client.connect(stack.temporal_address, namespace=stack.namespace)
    await temporal.get_workflow_handle(workflow_one).result()
    run = (await manager.client.get(f"/deals/{one}/processes/{workflow_one}")).json()
    calls = run["state"]["details"]["calls"]
    assert [c["outcome"] for c in calls] == ["call_back_later", "call_back_later", "agreed"]
    assert calls[0]["call_on"] == today.isoformat()

    # Deal two: refused, with the reason, to the head of sales with the file.
    two, file_two = await send_proposal("Flyers", with_file=True)
    call = await nth_call(manager, two, 1)
    url = f"/tasks/{call['id']}/complete"
    resp = await manager.client.post(url, json={"outcome": "refused", "data": {}})
    assert resp.status_code == 422, "a refusal says why"
    await answer(manager, call, "refused", comment="The budget went to TV")

    async def head_told() -> dict[str, Any] | None:
        items = (await head.client.get("/notifications")).json()["items"]
        return next((n for n in items if str(n.get("deal_id")) == str(two)), None)

    note = await eventually(head_told, timeout=30, what="the head's notification")
    assert "The budget went to TV" in note["body"] and f"/files/{file_two}/" in note["body"]
    await temporal.get_workflow_handle(f"deal-{two}/proposal-follow-up/1").result()
    assert (await deal_state(manager, two))["stage_id"] == stage["Proposal sent"]

    # Deal three waits for its call: pending. The report, as the head and as the manager.
    three, _ = await send_proposal("Posters", with_file=True)
    await nth_call(manager, three, 1)
    outsider = await staff.add("outsider", "manager")
    report = "/reports/proposals"
    day = {"from": today.isoformat(), "to": today.isoformat()}
    for who in (head, manager):
        resp = await who.client.get(report, params={**day, "manager_id": manager.id})
        assert resp.status_code == 200, resp.text
        (row,) = resp.json()
        counts = {k: row[k] for k in ("manager_id", "sent", "agreed", "refused", "pending")}
        assert counts == {
            "manager_id": manager.id, "sent": 3, "agreed": 1, "refused": 1, "pending": 1
        }  # fmt: skip
        assert [(r["deal_id"], r["reason"]) for r in row["refusals"]] == [
            (two, "The budget went to TV")
        ]
    resp = await outsider.client.get(report, params={**day, "manager_id": manager.id})
    assert resp.status_code == 200 and resp.json() == [], "another manager sees none of it"
    yesterday_only = {"from": today.isoformat(), "to": (today - timedelta(days=1)).isoformat()}
    resp = await head.client.get(report, params=yesterday_only)
    assert resp.status_code == 422 and problem(resp)["errors"][0]["field"] == "to", resp.text
