"""SM-4 Contract approval chain, end to end through the gateway against the whole stack.

The manager creates a contract of a type in the registry and sends it for approval: head of
sales → accounting → CEO, each with a comment and the file. The accountant rejects once: it
goes back to the manager with the comment; the manager uploads a new version and resubmits;
approved, the manager sends it and uploads the scan signed by both sides: "signed". The
registry lists it with filters, within what each caller may see.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
from temporalio.client import Client

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually, problem
from tests.e2e.test_pit_2_new_client_onboarding import (
    Person,
    Staff,
    decide,
    open_task,
    post,
    upload,
    waiting_approval,
)
from tests.e2e.test_pit_2_new_client_onboarding import staff as staff  # the fixture


async def contract_status(who: Person, contract_id: int, status: str) -> bool:
    resp = await who.client.get(f"/contracts/{contract_id}")
    assert resp.status_code == 200, resp.text
    return bool(resp.json()["status"] == status)


async def test_sm_4_contract_approval_chain(
    stack: Stack, admin: httpx.AsyncClient, staff: Staff
) -> None:
    tag = uuid.uuid4().hex[:6]
    sales = await post(admin, "/departments", {"name": f"Sales {tag}"})
    accounting = await post(admin, "/departments", {"name": f"Accounting {tag}"})
    manager = await staff.add("manager", "manager", sales["id"])
    head = await staff.add("head", "head_of_sales", sales["id"])
    accountant = await staff.add("accountant", "accountant", accounting["id"])
    ceo = await staff.add("ceo", "ceo")
    outsider = await staff.add("outsider", "manager")
    resp = await admin.patch(f"/departments/{sales['id']}", json={"head_id": head.id})
    assert resp.status_code == 200, resp.text
    pipeline = await post(
        admin,
        "/pipelines",
        {
            "name": f"Sales {tag}",
            "stages": [
                {"name": "New", "semantic": "in_progress"},
                {"name": "Contract", "semantic": "in_progress"},
                {"name": "Won", "semantic": "won"},
                {"name": "Lost", "semantic": "lost"},
            ],
        },
    )

    # The chain and the contract type, as data.
    template_code = f"contract_{tag}"
    await post(
        admin,
        "/approval-templates",
        {
            "code": template_code,
            "name": "Contract approval",
            "steps": [
                {"code": "head", "name": "Head of sales", "approvers": [{"kind": "head"}]},
                {
                    "code": "accounting",
                    "name": "Accounting",
                    "approvers": [
                        {
                            "kind": "role",
                            "role": "accountant",
                            "department_id": str(accounting["id"]),
                        }
                    ],
                    "quorum": "any",
                },
                {
                    "code": "ceo",
                    "name": "CEO",
                    "approvers": [{"kind": "user", "user_id": str(ceo.id)}],
                },
            ],
            "on_reject": {"return_to_previous_stage": False, "allow_lose": False},
        },
    )
    type_code = f"supply_{tag}"
    resp = await manager.client.put(
        f"/contract-types/{type_code}", json={"name": "Supply", "template_code": template_code}
    )
    assert resp.status_code == 403
    resp = await admin.put(
        f"/contract-types/{type_code}", json={"name": "Supply", "template_code": template_code}
    )
    assert resp.status_code == 200, resp.text

    # The manager's deal and its contract in the registry, with a first draft.
    deal = await post(
        manager.client, "/deals", {"pipeline_id": pipeline["id"], "title": f"Pens {tag}"}
    )
    contract_body = {
        "deal_id": deal["id"],
        "type_code": type_code,
        "counterparty_kind": "client",
        "counterparty_name": f"Acme {tag} LLC",
        "title": "Supply of branded pens",
        "amount": "150000.00",
        "currency": "RUB",
        "starts_on": "2026-12-01",
        "ends_on": "2027-11-30",
    }
    resp = await outsider.client.post("/contracts", json=contract_body)
    assert resp.status_code == 404, "a deal one does not see takes no contract"
    resp = await manager.client.post("/contracts", json={**contract_body, "type_code": "nope"})
    assert resp.status_code == 422 and problem(resp)["errors"][0]["field"] == "type_code"
    contract = await post(manager.client, "/contracts", contract_body)
    assert (contract["status"], contract["manager_id"]) == ("draft", manager.id)
    draft = (await upload(manager, deal["id"], "contract-v1.pdf", b"%PDF v1")).json()
    other_deal = await post(
        manager.client, "/deals", {"pipeline_id": pipeline["id"], "title": f"Other {tag}"}
    )
    stray = (await upload(manager, other_deal["id"], "other.pdf", b"%PDF other")).json()
    resp = await manager.client.post(
        f"/contracts/{contract['id']}/documents", json={"file_id": stray["id"]}
    )
    assert resp.status_code == 422, "a document is a file of the contract's deal"
    resp = await manager.client.post(
        f"/contracts/{contract['id']}/documents", json={"file_id": draft["id"]}
    )
    assert resp.status_code == 201 and resp.json()["documents"][0]["version"] == 1

    resp = await manager.client.post(
        f"/deals/{deal['id']}/processes",
        json={"process": "contract_approval", "params": {"contract_id": contract["id"]}},
    )
    assert resp.status_code == 201, resp.text
    workflow_id = resp.json()["workflow_id"]
    await eventually(
        lambda: contract_status(manager, contract["id"], "in_approval"), what="in approval"
    )

    # Round 1: the head approves with a comment and the file; accounting rejects.
    request = await waiting_approval(head, deal["id"])
    assert request["contract_id"] == contract["id"]
    resp = await decide(
        head, request["id"], decision="approve", comment="terms ok", file_ids=[draft["id"]]
    )
    assert resp.status_code == 200, resp.text
    await waiting_approval(accountant, deal["id"])
    assert (await decide(ceo, request["id"], decision="approve")).status_code == 403
    resp = await decide(accountant, request["id"], decision="reject", comment="wrong bank details")
    assert resp.status_code == 200, resp.text
    returned = await open_task(manager, deal["id"], "approval.returned")
    assert "wrong bank details" in returned["description"]
    assert returned["outcomes"] == ["restart"]
    assert await contract_status(manager, contract["id"], "in_approval")

    # The manager fixes the contract (a second version) and resubmits.
    fixed = (await upload(manager, deal["id"], "contract-v2.pdf", b"%PDF v2")).json()
    resp = await manager.client.post(
        f"/contracts/{contract['id']}/documents", json={"file_id": fixed["id"]}
    )
    assert [d["version"] for d in resp.json()["documents"]] == [1, 2]
    # Meanwhile the CEO goes on holiday: a substitute stands in.
    stand_in = await staff.add("acting_ceo", "ceo")
    resp = await admin.patch(
        f"/users/{ceo.id}", json={"absent": True, "substitute_id": stand_in.id}
    )
    assert resp.status_code == 200, resp.text
    resp = await manager.client.post(
        f"/tasks/{returned['id']}/complete", json={"outcome": "restart", "data": {}}
    )
    assert resp.status_code == 200, resp.text
    for who, comment in ((head, "ok"), (accountant, "bank details fixed"), (stand_in, "go")):
        waiting = await waiting_approval(who, deal["id"])
        resp = await decide(
            who, request["id"], decision="approve", comment=comment, file_ids=[fixed["id"]]
        )
        assert resp.status_code == 200, resp.text
    assert waiting["waiting_for"][0]["approver_id"] == ceo.id
    assert waiting["waiting_for"][0]["stand_in_id"] == stand_in.id
    await eventually(lambda: contract_status(manager, contract["id"], "approved"), what="approved")

    # Sent, then the scan signed by both sides: signed.
    send = await open_task(manager, deal["id"], "contract.send")
    resp = await manager.client.post(f"/tasks/{send['id']}/complete", json={"outcome": "sent"})
    assert resp.status_code == 200, resp.text
    scan_task = await open_task(manager, deal["id"], "contract.signed_scan")
    scan = (await upload(manager, deal["id"], "signed.pdf", b"%PDF signed by both")).json()
    resp = await manager.client.post(
        f"/tasks/{scan_task['id']}/complete", json={"outcome": "signed", "data": {}}
    )
    assert resp.status_code == 422, "the scan is required"
    resp = await manager.client.post(
        f"/tasks/{scan_task['id']}/complete",
        json={"outcome": "signed", "data": {"file_id": str(scan["id"])}},
    )
    assert resp.status_code == 200, resp.text
    await eventually(lambda: contract_status(manager, contract["id"], "signed"), what="signed")
    signed = (await manager.client.get(f"/contracts/{contract['id']}")).json()
    assert [(d["version"], d["kind"]) for d in signed["documents"]] == [
        (1, "draft"),
        (2, "draft"),
        (3, "signed_scan"),
    ]
    assert signed["approval_id"] == request["id"]

    # The registry: filters, and only what each caller may see.
    today = datetime.now(UTC).date().isoformat()
    filters = {
        "type_code": type_code,
        "counterparty_kind": "client",
        "counterparty": f"acme {tag}",
        "status": "signed",
        "manager_id": manager.id,
        "created_from": today,
        "created_to": today,
    }
    for who in (manager, head, ceo, admin):
        client = who if isinstance(who, httpx.AsyncClient) else who.client
        resp = await client.get("/contracts", params=filters)
        assert resp.status_code == 200, resp.text
        assert [c["id"] for c in resp.json()["items"]] == [contract["id"]]
    assert (await manager.client.get("/contracts", params={**filters, "status": "draft"})).json()[
        "items"
    ] == []
    resp = await outsider.client.get("/contracts", params={"type_code": type_code})
    assert resp.json()["items"] == []
    assert (await outsider.client.get(f"/contracts/{contract['id']}")).status_code == 404

    # The whole history: two rounds, every decision with its comment and files.
    full = (await manager.client.get(f"/approvals/{request['id']}")).json()
    assert full["status"] == "approved"
    assert [[(d["step"], d["outcome"]) for d in r["decisions"]] for r in full["rounds"]] == [
        [("head", "approve"), ("accounting", "reject"), ("return", "restart")],
        [("head", "approve"), ("accounting", "approve"), ("ceo", "approve")],
    ]
    assert full["rounds"][0]["decisions"][0]["file_ids"] == [draft["id"]]
    files_of = {
        kind: [
            f["id"]
            for f in (
                await manager.client.get(
                    "/files",
                    params={"deal_id": deal["id"], "attached_kind": kind, "attached_id": target},
                )
            ).json()["items"]
        ]
        for kind, target in (
            ("contract", contract["id"]),
            ("decision", full["rounds"][0]["decisions"][0]["id"]),
        )
    }
    assert sorted(files_of["contract"]) == sorted([draft["id"], fixed["id"], scan["id"]])
    assert files_of["decision"] == [draft["id"]]
    assert full["rounds"][0]["decisions"][1]["comment"] == "wrong bank details"
    by_stand_in = full["rounds"][1]["decisions"][2]
    assert (by_stand_in["approver_id"], by_stand_in["actor_id"]) == (ceo.id, stand_in.id)

    temporal = await Client.connect(stack.temporal_address, namespace=stack.namespace)
    result = await temporal.get_workflow_handle(workflow_id).result()
    assert result["status"] == "signed"

    async def chain_by_deal() -> bool:
        found = {wf.id async for wf in temporal.list_workflows(f'DealId = "{deal["id"]}"')}
        return f"{workflow_id}/approval-chain" in found

    await eventually(chain_by_deal, what="the chain by DealId")
