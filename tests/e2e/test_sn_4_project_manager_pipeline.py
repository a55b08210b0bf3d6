"""SN-4 Project manager pipeline, end to end through the gateway against the whole stack.

"Clarifying" creates a task with a checklist; "Preparing offer" asks which process to run
(a field required on entering it) and creates that process's checklist task (one rule per
process, told apart by its condition); "Decision" creates a meeting task for the
responsible's head. Money fields: income estimate, cost estimate, profit and profit %
computed by formulas, exact, recomputed with every change, read-only; formulas are checked
when saved. The offer cannot leave "Preparing offer" without a cost estimate.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually, problem
from tests.e2e.test_pit_2_new_client_onboarding import Person, Staff, post
from tests.e2e.test_pit_2_new_client_onboarding import staff as staff  # the fixture


async def tasks_of(who: Person, deal_id: int) -> list[dict[str, Any]]:
    resp = await who.client.get("/tasks", params={"assignee": "me", "deal_id": deal_id})
    assert resp.status_code == 200, resp.text
    return [t for t in resp.json()["items"] if t["kind"] == "automation.task"]


async def task_titled(who: Person, deal_id: int, title: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        return next((t for t in await tasks_of(who, deal_id) if t["title"] == title), None)

    return await eventually(probe, timeout=30, what=f"the task {title!r}")


async def patch_deal(who: Person, deal_id: int, body: dict[str, Any]) -> httpx.Response:
    etag = (await who.client.get(f"/deals/{deal_id}")).headers["etag"]
    return await who.client.patch(f"/deals/{deal_id}", json=body, headers={"If-Match": etag})


async def move(who: Person, deal_id: int, stage_id: int) -> httpx.Response:
    return await who.client.post(f"/deals/{deal_id}/move", json={"stage_id": stage_id})


async def test_sn_4_project_manager_pipeline(
    stack: Stack, admin: httpx.AsyncClient, staff: Staff
) -> None:
    tag = uuid.uuid4().hex[:6]
    department = await post(admin, "/departments", {"name": f"Projects {tag}"})
    manager = await staff.add("pm", "manager", department["id"])
    head = await staff.add("pm-head", "head_of_sales", department["id"])
    resp = await admin.patch(f"/departments/{department['id']}", json={"head_id": head.id})
    assert resp.status_code == 200, resp.text
    names = ["New request", "Clarifying", "Preparing offer", "Decision"]
    made = await post(
        admin,
        "/pipelines",
        {
            "name": f"Project manager {tag}",
            "stages": [{"name": n, "semantic": "in_progress"} for n in names],
        },
    )
    pipeline, stage = made["id"], {s["name"]: s["id"] for s in made["stages"]}
    fields = f"/pipelines/{pipeline}/fields"
    await post(
        admin, fields, {"code": "income_estimate", "name": "Income estimate", "type": "money"}
    )
    await post(
        admin,
        fields,
        {
            "code": "cost_estimate",
            "name": "Cost estimate",
            "type": "money",
            "required_to_leave": [stage["Preparing offer"]],
        },
    )
    await post(
        admin,
        fields,
        {"code": "supplier_cost_eur", "name": "Supplier cost", "type": "money", "currency": "EUR"},
    )
    await post(
        admin,
        fields,
        {
            "code": "offer_process",
            "name": "Which process?",
            "type": "enum",
            "options": ["furniture", "lighting"],
            "required_on_stages": [stage["Preparing offer"]],
        },
    )

    # Formulas are checked when saved: an unknown field, two currencies, a cycle.
    for formula, says in (
        ("income_estimate - costs", "costs is not a field of the pipeline"),
        ("income_estimate - supplier_cost_eur", "mixes money of two currencies"),
        ("income_estimate - profit", "profit would depend on itself"),
        ("income_estimate -", "expected more"),
    ):
        resp = await admin.post(
            fields, json={"code": "profit", "name": "Profit", "type": "money", "formula": formula}
        )
        assert resp.status_code == 422, resp.text
        (error,) = problem(resp)["errors"]
        assert error["field"] == "formula" and says in error["message"], error
    profit = await post(
        admin,
        fields,
        {
            "code": "profit",
            "name": "Profit (auto)",
            "type": "money",
            "formula": "income_estimate - cost_estimate",
        },
    )
    assert profit["formula"] == "income_estimate - cost_estimate"
    await post(
        admin,
        fields,
        {
            "code": "profit_pct",
            "name": "Profit % (auto)",
            "type": "number",
            "formula": "round(profit / income_estimate * 100, 2)",
        },
    )

    rules = f"/pipelines/{pipeline}/rules"
    responsible = {"kind": "responsible"}
    await post(
        admin,
        rules,
        {
            "name": "Clarify the request",
            "trigger": {"event": "enter", "stage_id": stage["Clarifying"]},
            "actions": [
                {
                    "type": "create_task",
                    "title": "Clarify the client's request",
                    "assignee": responsible,
                    "deadline": {"business_days": 1},
                    "checklist": ["Rooms and areas", "Budget", "Deadline", "Style references"],
                    "close_on_leave": True,
                }
            ],
        },
    )
    checklists = {
        "furniture": ["Collect supplier prices", "Layout drawings", "Delivery terms"],
        "lighting": ["Lighting plan", "Fixture specs"],
    }
    for process, checklist in checklists.items():
        await post(
            admin,
            rules,
            {
                "name": f"Offer: {process}",
                "trigger": {"event": "enter", "stage_id": stage["Preparing offer"]},
                "condition": {"field": "offer_process", "op": "eq", "value": process},
                "actions": [
                    {
                        "type": "create_task",
                        "title": f"Prepare the {process} offer",
                        "assignee": responsible,
                        "checklist": checklist,
                    }
                ],
            },
        )
    await post(
        admin,
        rules,
        {
            "name": "Decision meeting",
            "trigger": {"event": "enter", "stage_id": stage["Decision"]},
            "actions": [
                {
                    "type": "create_task",
                    "title": "Meet the heads to decide on the offer",
                    "assignee": {"kind": "responsible_head"},
                    "deadline": {"business_days": 2},
                }
            ],
        },
    )

    # Profit and profit % computed exactly, recomputed with each change, read-only.
    deal = await post(
        manager.client,
        "/deals",
        {
            "pipeline_id": pipeline,
            "title": f"Office fit-out {tag}",
            "fields": {"income_estimate": "1000000.00", "cost_estimate": "650000.00"},
        },
    )
    assert deal["fields"]["profit"] == "350000.00" and deal["fields"]["profit_pct"] == 35
    resp = await patch_deal(manager, deal["id"], {"fields": {"cost_estimate": "700000.10"}})
    assert resp.status_code == 200, resp.text
    assert resp.json()["fields"]["profit"] == "299999.90"
    assert resp.json()["fields"]["profit_pct"] == 30  # round(29.99999, 2): a whole number
    resp = await patch_deal(manager, deal["id"], {"fields": {"profit": "1"}})
    assert resp.status_code == 422 and problem(resp)["errors"][0]["field"] == "fields.profit"
    resp = await patch_deal(manager, deal["id"], {"fields": {"income_estimate": "0"}})
    assert resp.status_code == 200 and "profit_pct" not in resp.json()["fields"], "÷ 0 is empty"
    resp = await patch_deal(manager, deal["id"], {"fields": {"income_estimate": "1000000.00"}})
    assert resp.json()["fields"]["profit_pct"] == 30

    # Clarifying: the checklist task.
    assert (await move(manager, deal["id"], stage["Clarifying"])).status_code == 200
    clarify = await task_titled(manager, deal["id"], "Clarify the client's request")
    assert clarify["checklist"] == ["Rooms and areas", "Budget", "Deadline", "Style references"]
    assert clarify["deadline"]

    # Preparing offer asks which process to run; the answer picks the checklist task.
    resp = await move(manager, deal["id"], stage["Preparing offer"])
    assert resp.status_code == 422 and [e["field"] for e in problem(resp)["errors"]] == [
        "fields.offer_process"
    ]
    assert (
        await patch_deal(manager, deal["id"], {"fields": {"offer_process": "lighting"}})
    ).status_code == 200
    assert (await move(manager, deal["id"], stage["Preparing offer"])).status_code == 200
    offer = await task_titled(manager, deal["id"], "Prepare the lighting offer")
    assert offer["checklist"] == checklists["lighting"]

    async def both_offer_rules() -> list[dict[str, Any]] | None:
        found = (await manager.client.get(f"/deals/{deal['id']}/automation")).json()
        offers = [r for r in found if r["rule_name"].startswith("Offer:")]
        return offers if len(offers) == 2 else None

    offers = {
        r["rule_name"]: r
        for r in await eventually(both_offer_rules, timeout=30, what="both offer rules evaluated")
    }
    assert offers["Offer: furniture"]["status"] == "skipped"
    assert (
        offers["Offer: furniture"]["reason"] == "fields.offer_process (lighting) is not = furniture"
    )
    assert all(
        t["title"] != "Prepare the furniture offer" for t in await tasks_of(manager, deal["id"])
    )

    # The offer may not leave the stage without a cost estimate; then Decision: the head's meeting.
    assert (
        await patch_deal(manager, deal["id"], {"fields": {"cost_estimate": None}})
    ).status_code == 200
    resp = await move(manager, deal["id"], stage["Decision"])
    assert resp.status_code == 422, resp.text
    assert [(e["field"], e["message"]) for e in problem(resp)["errors"]] == [
        ("fields.cost_estimate", "required to leave stage Preparing offer")
    ]
    assert (
        await patch_deal(manager, deal["id"], {"fields": {"cost_estimate": "640000.00"}})
    ).status_code == 200
    assert (await move(manager, deal["id"], stage["Decision"])).status_code == 200
    meeting = await task_titled(head, deal["id"], "Meet the heads to decide on the offer")
    assert meeting["assignee_id"] == head.id
    final = (await manager.client.get(f"/deals/{deal['id']}")).json()
    assert final["fields"]["profit"] == "360000.00" and final["fields"]["profit_pct"] == 36

    # The clarifying task closed itself when the deal moved on.
    async def closed() -> bool:
        got = (await manager.client.get(f"/tasks/{clarify['id']}")).json()
        return bool(got["status"] == "cancelled")

    await eventually(closed, timeout=30, what="the clarifying task closed on leaving")
