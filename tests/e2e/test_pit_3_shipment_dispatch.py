"""PIT-3 Shipment dispatch, end to end through the gateway against the whole stack.

Entering "Realization" starts the process (a stage rule); the admin list
`shipping_directions` names each direction's operator and storekeeper. Three deals:
- transport company: the list is PATCHed while the process runs, so the UPD task goes to
  the new operator; a manager's drag past "Assembly/documents" is refused (422 naming the
  field the process writes); the driver attaches the TTN and confirms: the deal is won;
- pickup, on a direction without an operator: the admin gets a task naming what is
  missing, fixes the list, and the step starts; the storekeeper confirms the hand-over;
- own delivery, a deal without a driver: the admin is asked, the manager sets the driver,
  the driver confirms the delivery.
"""

from __future__ import annotations

import uuid
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

PROCESS = "shipment_dispatch"
LIST = "shipping_directions"
STAGES = ["New", "Realization", "Assembly/documents", "Delivery", "Won", "Lost"]


async def ensure_directions_list(admin: httpx.AsyncClient) -> None:
    """The list is the install's (one code); a test before this one may have made it."""
    resp = await admin.post(
        "/lists",
        json={
            "code": LIST,
            "name": "Shipping directions",
            "columns": [
                {"code": "direction", "name": "Direction", "type": "string"},
                {"code": "operator", "name": "Operator", "type": "user"},
                {"code": "storekeeper", "name": "Storekeeper", "type": "user"},
            ],
        },
    )
    assert resp.status_code in (201, 409), resp.text


async def answer(
    who: Person | httpx.AsyncClient, task: dict[str, Any], outcome: str, **data: Any
) -> None:
    client = who.client if isinstance(who, Person) else who
    resp = await client.post(
        f"/tasks/{task['id']}/complete", json={"outcome": outcome, "data": data}
    )
    assert resp.status_code == 200, resp.text


async def admin_task(admin: httpx.AsyncClient, deal_id: int, n: int) -> dict[str, Any]:
    """The n-th 'something is missing' task of the deal (the admins get it)."""

    async def probe() -> dict[str, Any] | None:
        resp = await admin.get("/tasks", params={"assignee": "me", "deal_id": deal_id})
        assert resp.status_code == 200, resp.text
        found = [t for t in resp.json()["items"] if t["kind"] == f"{PROCESS}.missing"]
        return sorted(found, key=lambda t: int(t["id"]))[n - 1] if len(found) >= n else None

    return await eventually(probe, timeout=30, what=f"admin task #{n}")


async def stage_is(who: Person, deal_id: int, stage_id: int) -> None:
    async def probe() -> bool:
        return bool((await deal_state(who, deal_id))["stage_id"] == stage_id)

    await eventually(probe, timeout=30, what=f"deal {deal_id} in stage {stage_id}")


async def test_pit_3_shipment_dispatch(
    stack: Stack, admin: httpx.AsyncClient, staff: Staff
) -> None:
    tag = uuid.uuid4().hex[:6]
    semantic = {"Won": "won", "Lost": "lost"}
    stages = [{"name": n, "semantic": semantic.get(n, "in_progress")} for n in STAGES]
    pipeline = await post(admin, "/pipelines", {"name": f"Shipments {tag}", "stages": stages})
    stage = {s["name"]: s["id"] for s in pipeline["stages"]}
    # The fields the process writes are required on the later stages: a manager's drag past
    # "Assembly/documents" is refused until the process got there (README).
    after_assembly = [stage["Delivery"], stage["Won"]]
    methods = ["transport_company", "pickup", "own_delivery"]
    fields: list[tuple[str, str, dict[str, Any]]] = [
        ("shipping_direction", "string", {}),
        ("delivery_method", "enum", {"options": methods}),
        ("driver", "user", {}),
        ("realization_number", "string", {"required_on_stages": [stage["Assembly/documents"]]}),
        ("upd_ready_on", "date", {"required_on_stages": after_assembly}),
        ("ttn_file", "file", {}),
        ("shipped_on", "date", {}),
    ]
    for code, kind, extra in fields:
        body = {"code": code, "name": code.replace("_", " "), "type": kind, **extra}
        await post(admin, f"/pipelines/{pipeline['id']}/fields", body)
    # Drivers and storekeepers work on every deal of this pipeline (roles are data).
    for role in (f"driver_{tag}", f"storekeeper_{tag}"):
        access = [{"pipeline_id": pipeline["id"], "visibility": "all"}]
        resp = await admin.put(
            f"/roles/{role}",
            json={"name": role, "visibility": "own", "permissions": ["files.upload"],
                  "pipelines": access},
        )  # fmt: skip
        assert resp.status_code == 200, resp.text
    manager = await staff.add("manager", "manager")
    operator = await staff.add("operator", "operator")
    new_operator = await staff.add("operator2", "operator")
    storekeeper = await staff.add("storekeeper", f"storekeeper_{tag}")
    driver = await staff.add("driver", f"driver_{tag}")
    admin_id = (await admin.get("/me")).json()["id"]

    await ensure_directions_list(admin)
    kazan, omsk = f"Kazan {tag}", f"Omsk {tag}"

    def row(direction: str, operator_id: int | None) -> dict[str, Any]:
        values = {"direction": direction, "operator": operator_id, "storekeeper": storekeeper.id}
        return {"values": {k: v for k, v in values.items() if v is not None}}

    kazan_row = await post(admin, f"/lists/{LIST}/items", row(kazan, operator.id))
    omsk_row = await post(admin, f"/lists/{LIST}/items", row(omsk, None))  # no operator
    rule = {"stage_id": stage["Realization"], "event": "enter", "process": PROCESS}
    await post(admin, f"/pipelines/{pipeline['id']}/rules", {**rule, "params": {}})

    async def new_deal(title: str, **values: Any) -> int:
        body = {"pipeline_id": pipeline["id"], "title": f"{title} {tag}", "fields": values}
        deal = await post(manager.client, "/deals", body)
        move = {"stage_id": stage["Realization"]}
        resp = await manager.client.post(f"/deals/{deal['id']}/move", json=move)
        assert resp.status_code == 200, resp.text
        return int(deal["id"])

    async def step(who: Person, deal_id: int, kind: str, outcome: str, **data: Any) -> None:
        await answer(who, await open_task(who, deal_id, f"{PROCESS}.{kind}"), outcome, **data)

    async def patch_row(item: dict[str, Any], body: dict[str, Any]) -> None:
        resp = await admin.patch(f"/lists/{LIST}/items/{item['id']}", json=body)
        assert resp.status_code == 200, resp.text

    # 1. Transport company; the list changes while the process runs.
    one = await new_deal(
        "Drills", shipping_direction=kazan, delivery_method="transport_company", driver=driver.id
    )
    realization = await open_task(operator, one, f"{PROCESS}.realization")
    await patch_row(kazan_row, row(kazan, new_operator.id))
    url = f"/tasks/{realization['id']}/complete"
    resp = await operator.client.post(url, json={"outcome": "created"})
    assert resp.status_code == 422, "the realization number is required"
    await answer(operator, realization, "created", realization_number="RL-0001")
    await stage_is(manager, one, stage["Assembly/documents"])
    resp = await manager.client.post(f"/deals/{one}/move", json={"stage_id": stage["Delivery"]})
    assert resp.status_code == 422 and "upd_ready_on" in str(problem(resp)), resp.text
    await step(new_operator, one, "upd", "upd_ready")  # the new operator: the list changed
    await stage_is(manager, one, stage["Delivery"])
    shipment = await open_task(driver, one, f"{PROCESS}.shipment")
    ttn = (await upload(driver, one, "ttn.pdf", b"%PDF-1.4 ttn")).json()
    await answer(driver, shipment, "shipped", ttn_file=str(ttn["id"]))
    await stage_is(manager, one, stage["Won"])
    deal = await deal_state(manager, one)
    assert deal["fields"]["realization_number"] == "RL-0001"
    assert str(deal["fields"]["ttn_file"]) == str(ttn["id"]) and deal["fields"]["upd_ready_on"]

    # 2. Pickup on a direction without an operator: the admin is asked, fixes the list.
    two = await new_deal("Saws", shipping_direction=omsk, delivery_method="pickup")
    missing = await admin_task(admin, two, 1)
    assert missing["assignee_id"] == admin_id
    assert f"no operator for direction {omsk}" in missing["title"]
    await patch_row(omsk_row, row(omsk, operator.id))
    await answer(admin, missing, "fixed")
    await step(operator, two, "realization", "created", realization_number="RL-0002")
    await step(operator, two, "upd", "upd_ready")
    await step(storekeeper, two, "hand_over", "handed_over")
    await stage_is(manager, two, stage["Won"])

    # 3. Own delivery without a driver: the admin is asked; the manager sets the driver.
    three = await new_deal("Grinders", shipping_direction=kazan, delivery_method="own_delivery")
    await step(new_operator, three, "realization", "created", realization_number="RL-0003")
    await step(new_operator, three, "upd", "upd_ready")
    missing = await admin_task(admin, three, 1)
    assert "the deal has no driver" in missing["title"]
    etag = (await manager.client.get(f"/deals/{three}")).headers["ETag"]
    resp = await manager.client.patch(
        f"/deals/{three}", json={"fields": {"driver": driver.id}}, headers={"If-Match": etag}
    )
    assert resp.status_code == 200, resp.text
    await answer(admin, missing, "fixed")
    await step(driver, three, "delivery", "delivered")
    await stage_is(manager, three, stage["Won"])

    temporal = await Client.connect(stack.temporal_address, namespace=stack.namespace)
    for deal_id in (one, two, three):
        await temporal.get_workflow_handle(f"deal-{deal_id}/shipment-dispatch/1").result()
    entries = (await manager.client.get(f"/deals/{two}/timeline")).json()["items"]
    texts = " | ".join(e["text"] for e in entries)
    assert f"Waiting for the admins: no operator for direction {omsk}" in texts, texts
