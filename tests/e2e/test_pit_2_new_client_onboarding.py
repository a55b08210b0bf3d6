"""PIT-2 New client onboarding, end to end through the gateway against the whole stack.

The deal enters "Terms approval" and a stage rule (edited through the API) starts the
onboarding process by itself; it runs the approval chain (a template edited through the
API): head of sales (may change the limit, markup group and its period) → deputy chief
accountant → lawyer → 1C operator (found in the shipping-direction list; enters the
contract number) → lawyer (attaches the contract). The deputy rejects once: the deal goes
back with a task for the manager, who restarts (the deal re-enters "Terms approval" while
the process runs, so the rule starts nothing new); every decision of both rounds stays and
is shown on the deal; the final stage, task and notification follow.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import nats
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy
from temporalio.client import Client, WorkflowExecutionStatus

from deploy.local.stack import Stack
from services.common.events import Envelope
from tests.e2e.conftest import eventually, login, problem

PASSWORD = "correct horse battery"


@dataclass
class Person:
    id: int
    client: httpx.AsyncClient


async def post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = await client.post(path, json=body)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


class Staff:
    """The people a scenario creates; deactivated at the end, so that look-ups of later tests
    on the same stack (the first head of sales, the users with a role) never find them."""

    def __init__(self, stack: Stack, admin: httpx.AsyncClient) -> None:
        self._stack = stack
        self._admin = admin
        self.people: list[Person] = []

    async def add(self, name: str, role: str, department: int | None = None) -> Person:
        email = f"{name}-{uuid.uuid4().hex[:6]}@approvals.test"
        body: dict[str, Any] = {"email": email, "name": name, "password": PASSWORD, "roles": [role]}
        if department:
            body["department_id"] = department
        user = await post(self._admin, "/users", body)
        self.people.append(
            Person(user["id"], await login(self._stack.gateway_url, email, PASSWORD))
        )
        return self.people[-1]

    async def retire(self) -> None:
        for who in self.people:
            await who.client.aclose()
            resp = await self._admin.patch(f"/users/{who.id}", json={"active": False})
            assert resp.status_code == 200, resp.text


@pytest.fixture
async def staff(stack: Stack, admin: httpx.AsyncClient) -> AsyncIterator[Staff]:
    people = Staff(stack, admin)
    yield people
    await people.retire()


async def waiting_approval(who: Person, deal_id: int) -> dict[str, Any]:
    """The deal's request once a step waits for this person (GET /approvals?assignee=me)."""

    async def probe() -> dict[str, Any] | None:
        resp = await who.client.get("/approvals", params={"assignee": "me", "deal_id": deal_id})
        assert resp.status_code == 200, resp.text
        items = resp.json()["items"]
        return items[0] if items else None

    return await eventually(probe, timeout=30, what="an approval waiting for a decision")


async def decide(who: Person, request_id: int, **body: Any) -> httpx.Response:
    return await who.client.post(f"/approvals/{request_id}/decision", json=body)


async def open_task(who: Person, deal_id: int, kind: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        resp = await who.client.get(
            "/tasks", params={"assignee": "me", "deal_id": deal_id, "status": "open"}
        )
        assert resp.status_code == 200, resp.text
        return next((t for t in resp.json()["items"] if t["kind"] == kind), None)

    return await eventually(probe, timeout=30, what=f"an open {kind} task")


async def deal_state(who: Person, deal_id: int) -> dict[str, Any]:
    resp = await who.client.get(f"/deals/{deal_id}")
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def upload(who: Person, deal_id: int, name: str, content: bytes, **form: str) -> Any:
    return await who.client.post(
        "/files",
        data={"deal_id": str(deal_id), **form},
        files={"file": (name, content, "application/pdf")},
    )


async def decision_events(nats_url: str, deal_id: int, count: int) -> list[Envelope]:
    """The approvals.decision.recorded events of the deal as a JetStream consumer sees them."""
    nc = await nats.connect(nats_url)
    seen: list[Envelope] = []
    try:
        sub = await nc.jetstream().pull_subscribe(
            "approvals.decision.recorded",
            stream="APPROVALS",
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
        )

        async def found() -> list[Envelope] | None:
            try:
                msgs = await sub.fetch(200, timeout=1)
            except (nats.errors.TimeoutError, TimeoutError):  # nats-py raises either
                msgs = []
            seen.extend(
                e for m in msgs if (e := Envelope.from_json(m.data)).subject == f"deal/{deal_id}"
            )
            return seen if len(seen) >= count else None

        return await eventually(found, timeout=30, what=f"{count} decision events")
    finally:
        await nc.close()


async def test_pit_2_new_client_onboarding(
    stack: Stack, admin: httpx.AsyncClient, staff: Staff
) -> None:
    tag = uuid.uuid4().hex[:6]
    sales = await post(admin, "/departments", {"name": f"Sales {tag}"})
    accounting = await post(admin, "/departments", {"name": f"Accounting {tag}"})
    manager = await staff.add("manager", "manager", sales["id"])
    head = await staff.add("head", "head_of_sales", sales["id"])
    deputy = await staff.add("deputy", "deputy_chief_accountant", accounting["id"])
    lawyer = await staff.add("lawyer", "lawyer")
    operator = await staff.add("operator", "operator")
    outsider = await staff.add("outsider", "manager")
    resp = await admin.patch(f"/departments/{sales['id']}", json={"head_id": head.id})
    assert resp.status_code == 200, resp.text

    # The pipeline, its fields and the shipping-direction list, as an admin sets them up.
    pipeline = await post(
        admin,
        "/pipelines",
        {
            "name": f"New clients {tag}",
            "stages": [
                {"name": "New", "semantic": "in_progress"},
                {"name": "Terms approval", "semantic": "in_progress"},
                {"name": "Terms approved", "semantic": "in_progress"},
                {"name": "Won", "semantic": "won"},
                {"name": "Lost", "semantic": "lost"},
            ],
        },
    )
    stage = {s["name"]: s["id"] for s in pipeline["stages"]}
    fields = [
        ("inn", "string", {}),
        ("ogrn", "string", {}),
        ("credit_limit", "money", {}),
        ("markup_group", "enum", {"options": ["A", "B", "C"]}),
        ("temporary_markup_group", "enum", {"options": ["A", "B", "C"]}),
        ("temporary_markup_until", "date", {}),
        ("payment_terms", "string", {}),
        ("shipping_direction", "string", {}),
        ("contract_number", "string", {}),
        ("contract_file", "file", {}),
    ]
    for code, kind, extra in fields:
        await post(
            admin,
            f"/pipelines/{pipeline['id']}/fields",
            {"code": code, "name": code.replace("_", " "), "type": kind, **extra},
        )
    directions = f"directions_{tag}"
    await post(
        admin,
        "/lists",
        {
            "code": directions,
            "name": "Shipping directions",
            "columns": [
                {"code": "direction", "name": "Direction", "type": "string"},
                {"code": "operator", "name": "1C operator", "type": "user"},
            ],
        },
    )
    await post(
        admin,
        f"/lists/{directions}/items",
        {"values": {"direction": "North", "operator": operator.id}},
    )

    template_code = f"onboarding_{tag}"
    template = {
        "code": template_code,
        "name": "New client terms",
        "steps": [
            {
                "code": "head",
                "name": "Head of sales",
                "approvers": [{"kind": "head"}],
                "editable_fields": [
                    "credit_limit",
                    "markup_group",
                    "temporary_markup_group",
                    "temporary_markup_until",
                ],
            },
            {
                "code": "accounting",
                "name": "Deputy chief accountant",
                "approvers": [
                    {
                        "kind": "role",
                        "role": "deputy_chief_accountant",
                        "department_id": str(accounting["id"]),
                    }
                ],
                "quorum": "any",
            },
            {
                "code": "legal_review",
                "name": "Lawyer",
                "approvers": [{"kind": "user", "user_id": str(lawyer.id)}],
            },
            {
                "code": "contract_number",
                "name": "1C operator",
                "approvers": [
                    {
                        "kind": "list",
                        "list_code": directions,
                        "key_field": "shipping_direction",
                        "key_column": "direction",
                        "user_column": "operator",
                    }
                ],
                "required_fields": ["contract_number"],
            },
            {
                "code": "contract_file",
                "name": "Lawyer attaches the contract",
                "approvers": [{"kind": "user", "user_id": str(lawyer.id)}],
                "file_field": "contract_file",
                "requires_file": True,
            },
        ],
        "on_reject": {"return_to_previous_stage": True, "allow_lose": True},
        "on_approve": {
            "move_to_stage_id": str(stage["Terms approved"]),
            "task_title": "Terms approved: send the client the contract",
            "notify": True,
        },
    }
    resp = await manager.client.post("/approval-templates", json=template)
    assert resp.status_code == 403, "templates are for those allowed to edit them"
    resp = await admin.post("/approval-templates", json={**template, "steps": []})
    assert resp.status_code == 422 and problem(resp)["errors"]
    assert (await admin.post("/approval-templates", json=template)).status_code == 201

    # Entering "Terms approval" starts the onboarding by itself: a stage rule (data).
    rules = f"/pipelines/{pipeline['id']}/rules"
    rule = {
        "stage_id": stage["Terms approval"],
        "event": "enter",
        "process": "client_onboarding",
        "params": {"template": template_code},
    }
    assert (await manager.client.post(rules, json=rule)).status_code == 403
    resp = await admin.post(rules, json={**rule, "process": "client_onbording"})
    assert resp.status_code == 422 and problem(resp)["errors"][0]["field"] == "process"
    rule_id = (await post(admin, rules, rule))["id"]

    # The manager files the client's card and sends the terms for approval.
    deal = await post(
        manager.client,
        "/deals",
        {
            "pipeline_id": pipeline["id"],
            "title": f"Instrument-Torg {tag}",
            "fields": {
                "inn": "7701234567",
                "ogrn": "1027700132195",
                "credit_limit": "500000",
                "markup_group": "A",
                "payment_terms": "30 days",
                "shipping_direction": "North",
            },
        },
    )
    deal_id = deal["id"]
    resp = await manager.client.post(
        f"/deals/{deal_id}/move", json={"stage_id": stage["Terms approval"]}
    )
    assert resp.status_code == 200, resp.text

    async def started_by_the_rule() -> str | None:
        resp = await manager.client.get(f"/deals/{deal_id}/processes")
        assert resp.status_code == 200, resp.text
        return next((p["id"] for p in resp.json() if p["process"] == "client_onboarding"), None)

    workflow_id = await eventually(started_by_the_rule, what="the process the rule started")
    assert workflow_id == f"deal-{deal_id}/client-onboarding/1"
    chain_id = f"{workflow_id}/approval-chain"

    # Round 1: the head changes the limit and the markup; they land on the deal.
    request = await waiting_approval(head, deal_id)
    request_id = request["id"]
    assert request["waiting_for"][0]["approver_id"] == head.id
    assert (await decide(lawyer, request_id, decision="approve")).status_code in (403, 404)
    resp = await decide(head, request_id, decision="approve", fields={"contract_number": "X"})
    assert resp.status_code == 422, resp.text
    resp = await decide(head, request_id, decision="approve", fields={"markup_group": "Z"})
    assert resp.status_code == 422 and "one of A, B, C" in problem(resp)["detail"]
    resp = await decide(
        head,
        request_id,
        decision="approve",
        comment="a lower limit for a new client",
        fields={
            "credit_limit": "300000",
            "markup_group": "B",
            "temporary_markup_group": "C",
            "temporary_markup_until": "2027-03-31",
        },
    )
    assert resp.status_code == 200, resp.text
    landed = (await deal_state(manager, deal_id))["fields"]
    assert (landed["credit_limit"], landed["markup_group"]) == ("300000", "B")
    assert landed["temporary_markup_until"] == "2027-03-31"

    # The deputy chief accountant rejects: a comment is required; the deal goes back.
    await waiting_approval(deputy, deal_id)
    resp = await decide(deputy, request_id, decision="reject")
    assert resp.status_code == 422 and "comment" in problem(resp)["detail"]
    resp = await decide(
        deputy, request_id, decision="reject", comment="court cases pending: prepayment only"
    )
    assert resp.status_code == 200, resp.text
    returned = await open_task(manager, deal_id, "approval.returned")
    assert "court cases pending" in returned["description"]

    async def back_in_new() -> bool:
        return (await deal_state(manager, deal_id))["stage_id"] == stage["New"]

    await eventually(back_in_new, what="the deal back in its previous stage")

    # The manager sets new terms and restarts: round 2, round 1 kept.
    deal_now = await deal_state(manager, deal_id)
    resp = await manager.client.patch(
        f"/deals/{deal_id}",
        json={"fields": {"payment_terms": "prepayment"}},
        headers={"If-Match": str(deal_now["version"])},
    )
    assert resp.status_code == 200, resp.text
    resp = await manager.client.post(
        f"/tasks/{returned['id']}/complete",
        json={"outcome": "restart", "data": {"reason": "prepayment agreed"}},
    )
    assert resp.status_code == 200, resp.text

    async def in_terms_approval() -> bool:
        return (await deal_state(manager, deal_id))["stage_id"] == stage["Terms approval"]

    await eventually(in_terms_approval, what="the deal back in Terms approval")
    await waiting_approval(head, deal_id)
    assert (await decide(head, request_id, decision="approve")).status_code == 200
    await waiting_approval(deputy, deal_id)
    resp = await decide(deputy, request_id, decision="approve", comment="ok on prepayment")
    assert resp.status_code == 200, resp.text
    await waiting_approval(lawyer, deal_id)
    assert (await decide(lawyer, request_id, decision="approve")).status_code == 200

    # The 1C operator (from the direction list) must enter the contract number.
    await waiting_approval(operator, deal_id)
    resp = await decide(operator, request_id, decision="approve")
    assert resp.status_code == 422 and "contract_number" in problem(resp)["detail"]
    resp = await decide(
        operator, request_id, decision="approve", fields={"contract_number": f"D-{tag}"}
    )
    assert resp.status_code == 200, resp.text

    # The lawyer attaches the contract; it lands on the deal.
    await waiting_approval(lawyer, deal_id)
    resp = await decide(lawyer, request_id, decision="approve")
    assert resp.status_code == 422 and "file" in problem(resp)["detail"]
    content = b"%PDF-1.4 supply contract " + tag.encode()
    resp = await upload(lawyer, deal_id, "contract.pdf", content)
    assert resp.status_code == 201, resp.text
    contract_file = resp.json()
    assert contract_file["sha256"] == hashlib.sha256(content).hexdigest()
    assert (await upload(outsider, deal_id, "x.pdf", b"x")).status_code in (403, 404)
    resp = await decide(
        lawyer, request_id, decision="approve", file_ids=[contract_file["id"]], comment="signed"
    )
    assert resp.status_code == 200, resp.text

    # Terms approved: the stage, the manager's task and notification, the fields.
    async def approved_stage() -> bool:
        return (await deal_state(manager, deal_id))["stage_id"] == stage["Terms approved"]

    await eventually(approved_stage, timeout=30, what="the deal in Terms approved")
    final = (await deal_state(manager, deal_id))["fields"]
    assert final["contract_number"] == f"D-{tag}"
    assert final["contract_file"] == str(contract_file["id"])
    assert final["credit_limit"] == "300000"
    await open_task(manager, deal_id, "approval.approved")

    async def notified() -> bool:
        items = (await manager.client.get("/notifications")).json()["items"]
        return any(n["kind"] == "approval.approved" for n in items)

    await eventually(notified, what="the manager's notification")

    # The contract file downloads intact for those who see the deal, for nobody else.
    resp = await manager.client.get(f"/files/{contract_file['id']}/content")
    assert resp.status_code == 200 and resp.content == content
    assert "contract.pdf" in resp.headers["content-disposition"]
    assert (await outsider.client.get(f"/files/{contract_file['id']}/content")).status_code == 404

    # Every decision of both rounds, on the deal.
    resp = await manager.client.get("/approvals", params={"deal_id": deal_id})
    (listed,) = resp.json()["items"]
    assert listed["status"] == "approved"
    full = (await manager.client.get(f"/approvals/{request_id}")).json()
    assert [r["status"] for r in full["rounds"]] == ["rejected", "approved"]
    first, second = ([(d["step"], d["outcome"]) for d in r["decisions"]] for r in full["rounds"])
    assert first == [("head", "approve"), ("accounting", "reject"), ("return", "restart")]
    assert second == [
        ("head", "approve"),
        ("accounting", "approve"),
        ("legal_review", "approve"),
        ("contract_number", "approve"),
        ("contract_file", "approve"),
    ]
    head_decision = full["rounds"][0]["decisions"][0]
    assert head_decision["actor_id"] == head.id
    assert head_decision["fields_before"]["credit_limit"] == "500000"
    assert head_decision["fields_after"]["credit_limit"] == "300000"
    assert full["rounds"][0]["decisions"][1]["comment"].startswith("court cases")
    assert (await outsider.client.get(f"/approvals/{request_id}")).status_code == 404
    timeline = " | ".join(
        e["text"]
        for e in (
            await manager.client.get(f"/deals/{deal_id}/timeline", params={"limit": 200})
        ).json()["items"]
    )
    started = f'{workflow_id} started (rule {rule_id}: enter "Terms approval")'
    for fragment in ("Head of sales: approved", "rejected — court cases", "Resubmitted", started):
        assert fragment in timeline, timeline
    events = await decision_events(stack.nats_url, deal_id, 8)
    assert {e.data["outcome"] for e in events} == {"approve", "reject", "restart"}

    # An operator finds the chain in Temporal from the deal's id.
    temporal = await Client.connect(stack.temporal_address, namespace=stack.namespace)
    assert (await temporal.get_workflow_handle(workflow_id).result())["outcome"] == "approved"
    chain = temporal.get_workflow_handle(chain_id)
    assert (await chain.describe()).status == WorkflowExecutionStatus.COMPLETED

    async def found_by_deal_id() -> set[str]:
        ids = {wf.id async for wf in temporal.list_workflows(f'DealId = "{deal_id}"')}
        return ids if {workflow_id, chain_id} <= ids else set()

    found = await eventually(found_by_deal_id, what="both workflows by DealId")
    assert f"deal-{deal_id}/client-onboarding/2" not in found, "the restart started no new run"
