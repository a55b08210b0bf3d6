"""JUG-1 Proposal on a lead, end to end through the gateway against the whole stack: a
process started on a lead; the client's terms approved by the head and the proposal sent
again; no answer, the manager tries again; positive → the lead converted and the deal handed
to the account manager (a role look-up); another lead refused → lost with the reason; every
round readable in the run."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from temporalio.client import Client

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually, problem
from tests.e2e.test_pit_2_new_client_onboarding import Person, Staff, post
from tests.e2e.test_pit_2_new_client_onboarding import staff as staff  # the fixture
from tests.e2e.test_sm_3_layout_revision import answer

PROCESS = "lead_proposal"


async def lead_task(who: Person, lead_id: int, kind: str, seen: set[int]) -> dict[str, Any]:
    """The open task of `kind` on the lead that `who` has not answered yet."""

    async def probe() -> dict[str, Any] | None:
        resp = await who.client.get("/tasks", params={"assignee": "me", "status": "open"})
        assert resp.status_code == 200, resp.text
        fresh = [
            t
            for t in resp.json()["items"]
            if t["kind"] == f"{PROCESS}.{kind}"
            and re.match(rf"Lead {lead_id}\b", t["description"])
            and t["id"] not in seen
        ]
        return fresh[0] if fresh else None

    task = await eventually(probe, what=f"an open {kind} task of lead {lead_id}")
    seen.add(task["id"])
    return task


async def test_jug_1_proposal_on_a_lead(
    stack: Stack, admin: httpx.AsyncClient, staff: Staff
) -> None:
    tag = uuid.uuid4().hex[:6]
    sales = await post(admin, "/departments", {"name": f"Sponsorship {tag}"})
    manager = await staff.add("manager", "manager", sales["id"])
    head = await staff.add("head", "head_of_sales", sales["id"])
    resp = await admin.patch(f"/departments/{sales['id']}", json={"head_id": head.id})
    assert resp.status_code == 200, resp.text
    role = f"account_manager_{tag}"
    resp = await admin.put(
        f"/roles/{role}",
        json={"name": "Account manager", "visibility": "own", "permissions": ["deals.edit"]},
    )
    assert resp.status_code == 200, resp.text
    account = await staff.add("account", role)
    funnel = await post(
        admin,
        "/pipelines",
        {
            "name": f"Sponsor leads {tag}",
            "kind": "lead",
            "stages": [
                {"name": "Proposal"},
                {"name": "Interesting", "semantic": "won"},
                {"name": "Refused", "semantic": "lost"},
            ],
        },
    )
    deals = await post(
        admin, "/pipelines", {"name": f"Sponsors {tag}", "stages": [{"name": "New"}]}
    )
    params = {
        "hand_over_role": role,
        "max_attempts": 2,
        "retry_after_hours": 0,
        "deal_pipeline_id": str(deals["id"]),
    }
    lead = await post(
        manager.client, "/leads", {"pipeline_id": funnel["id"], "title": "JPoint booth"}
    )
    kinds = (await manager.client.get("/processes", params={"on": "lead"})).json()
    assert PROCESS in [k["name"] for k in kinds]
    assert PROCESS not in [k["name"] for k in (await manager.client.get("/processes")).json()]
    resp = await manager.client.post(
        f"/leads/{lead['id']}/processes", json={"process": PROCESS, "params": {"max_attempts": "x"}}
    )
    assert resp.status_code == 422, "max_attempts must be a whole number"
    resp = await manager.client.post(
        f"/leads/{lead['id']}/processes", json={"process": PROCESS, "params": params}
    )
    assert resp.status_code == 201, resp.text
    workflow_id = resp.json()["workflow_id"]
    assert workflow_id == f"lead-{lead['id']}/lead-proposal/1"

    seen: set[int] = set()
    lead_id = lead["id"]
    resp = await answer(manager, await lead_task(manager, lead_id, "proposal", seen), "sent")
    assert resp.status_code == 200, resp.text
    feedback = await lead_task(manager, lead_id, "feedback", seen)
    resp = await answer(manager, feedback, "terms_not_accepted")
    assert resp.status_code == 422 and "comment" in problem(resp)["detail"]
    resp = await answer(manager, feedback, "terms_not_accepted", comment="payment in 60 days")
    assert resp.status_code == 200, resp.text
    terms = await lead_task(head, lead_id, "terms", seen)
    assert "payment in 60 days" in terms["description"]
    assert (await answer(manager, terms, "approved")).status_code == 404, "the head's task"
    assert (await answer(head, terms, "approved")).status_code == 200

    proposal = await lead_task(manager, lead_id, "proposal", seen)
    assert "revised" in proposal["title"]
    assert (await answer(manager, proposal, "sent")).status_code == 200
    no_answer = await lead_task(manager, lead_id, "feedback", seen)
    assert (await answer(manager, no_answer, "no_answer")).status_code == 200
    again = await lead_task(manager, lead_id, "feedback", seen)
    assert "try 2" in again["title"]
    assert (await answer(manager, again, "positive")).status_code == 200

    temporal = await Client.connect(stack.temporal_address, namespace=stack.namespace)
    result = await temporal.get_workflow_handle(workflow_id).result()
    assert result["outcome"] == "converted" and result["handed_to"] == str(account.id)
    converted = (await manager.client.get(f"/leads/{lead_id}")).json()
    assert str(converted["deal_id"]) == str(result["deal_id"])
    deal = (await account.client.get(f"/deals/{result['deal_id']}")).json()
    assert deal["responsible_id"] == account.id and deal["pipeline_id"] == deals["id"]

    run = (await manager.client.get(f"/leads/{lead_id}/processes/{workflow_id}")).json()
    assert run["status"] == "completed" and run["stage"] == "converted"
    assert [
        (r["round"], r["attempt"], r["outcome"], r["decision"])
        for r in run["state"]["details"]["rounds"]
    ] == [  # fmt: skip
        (1, 1, "terms_not_accepted", "approved"),
        (2, 1, "no_answer", ""),
        (2, 2, "positive", ""),
    ]
    listed = await eventually(lambda: _runs(manager, lead_id), what="the lead's run in the list")
    assert [r["id"] for r in listed] == [workflow_id]
    other = await manager.client.get(f"/leads/{lead_id}/processes/deal-1/sample-return/1")
    assert other.status_code == 404

    # Another lead: the client refuses; the lead is lost with the reason.
    second = await post(manager.client, "/leads", {"pipeline_id": funnel["id"], "title": "Meetup"})
    resp = await manager.client.post(
        f"/leads/{second['id']}/processes", json={"process": PROCESS, "params": params}
    )
    assert resp.status_code == 201, resp.text
    refused_id = resp.json()["workflow_id"]
    proposal = await lead_task(manager, second["id"], "proposal", seen)
    assert (await answer(manager, proposal, "sent")).status_code == 200
    feedback = await lead_task(manager, second["id"], "feedback", seen)
    resp = await answer(manager, feedback, "refused", comment="no budget this year")
    assert resp.status_code == 200, resp.text
    result = await temporal.get_workflow_handle(refused_id).result()
    assert result["outcome"] == "lost"
    lost = (await manager.client.get(f"/leads/{second['id']}")).json()
    assert lost["stage_id"] == funnel["stages"][2]["id"]
    timeline = (await manager.client.get(f"/leads/{second['id']}/timeline")).json()["items"]
    assert any("no budget this year" in e["text"] for e in timeline), timeline


async def _runs(who: Person, lead_id: int) -> list[dict[str, Any]]:
    resp = await who.client.get(f"/leads/{lead_id}/processes")
    assert resp.status_code == 200, resp.text
    return list(resp.json())
