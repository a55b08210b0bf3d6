"""SM-7 Production and shipment, end to end through the gateway against the whole stack.

The manager starts the process and records the supplier and a production date that is
today, so the deadline watch's reminders and its alert are due at once on the real server
(their timing is tested on the time-skipping server); the manager records "ready"; the
accountant must attach the shipping documents; the manager sends them back once with a
comment, then closes: the process moves the deal to the won stage. Each step is on the
timeline.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from temporalio.client import Client

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually
from tests.e2e.test_pit_2_new_client_onboarding import (
    Staff,
    deal_state,
    open_task,
    post,
    upload,
)
from tests.e2e.test_pit_2_new_client_onboarding import staff as staff  # the fixture
from tests.e2e.test_pit_3_shipment_dispatch import answer

PROCESS = "production_shipment"


async def test_sm_7_production_and_shipment(
    stack: Stack, admin: httpx.AsyncClient, staff: Staff
) -> None:
    tag = uuid.uuid4().hex[:6]
    manager = await staff.add("manager", "manager")
    accountant = await staff.add("accountant", "accountant")
    stages = [
        {"name": "Production", "semantic": "in_progress"},
        {"name": "Won", "semantic": "won"},
        {"name": "Lost", "semantic": "lost"},
    ]
    pipeline = await post(admin, "/pipelines", {"name": f"Production {tag}", "stages": stages})
    won = next(s["id"] for s in pipeline["stages"] if s["semantic"] == "won")
    deal = await post(
        manager.client, "/deals", {"pipeline_id": pipeline["id"], "title": f"Banners {tag}"}
    )
    deal_id = deal["id"]
    start = {"process": PROCESS, "params": {"accountant_id": str(accountant.id)}}
    resp = await manager.client.post(f"/deals/{deal_id}/processes", json=start)
    assert resp.status_code == 201, resp.text
    workflow_id = resp.json()["workflow_id"]
    assert workflow_id == f"deal-{deal_id}/production-shipment/1"

    today = datetime.now(UTC).date().isoformat()
    production = await open_task(manager, deal_id, f"{PROCESS}.production")
    url = f"/tasks/{production['id']}/complete"
    resp = await manager.client.post(url, json={"outcome": "recorded", "data": {"due_on": today}})
    assert resp.status_code == 422, "the supplier is required"
    await answer(manager, production, "recorded", supplier="PrintCo", due_on=today)

    async def alerted() -> dict[str, Any] | None:
        items = (await manager.client.get("/notifications")).json()["items"]
        return next(
            (
                n
                for n in items
                if n["kind"] == f"{PROCESS}.due" and str(n["deal_id"]) == str(deal_id)
            ),
            None,
        )

    note = await eventually(alerted, timeout=30, what="the due-date alert")
    assert "PrintCo" in note["body"]
    await answer(manager, await open_task(manager, deal_id, f"{PROCESS}.ready"), "ready")

    documents = await open_task(accountant, deal_id, f"{PROCESS}.documents")
    url = f"/tasks/{documents['id']}/complete"
    resp = await accountant.client.post(url, json={"outcome": "prepared", "data": {}})
    assert resp.status_code == 422, "the documents are required"
    upd = (await upload(accountant, deal_id, "upd.pdf", b"%PDF-1.4 upd")).json()
    await answer(accountant, documents, "prepared", documents=[str(upd["id"])])
    check = await open_task(manager, deal_id, f"{PROCESS}.check")
    url = f"/tasks/{check['id']}/complete"
    assert (await manager.client.post(url, json={"outcome": "rework"})).status_code == 422
    await answer(manager, check, "rework", comment="The UPD lacks the stamp")

    async def second_round() -> dict[str, Any] | None:
        resp = await accountant.client.get(
            "/tasks", params={"assignee": "me", "deal_id": deal_id, "status": "open"}
        )
        items = [t for t in resp.json()["items"] if t["kind"] == f"{PROCESS}.documents"]
        return items[0] if items and items[0]["id"] != documents["id"] else None

    again = await eventually(second_round, timeout=30, what="the documents' second round")
    assert "The UPD lacks the stamp" in again["description"]
    stamped = (await upload(accountant, deal_id, "upd2.pdf", b"%PDF-1.4 upd2")).json()
    await answer(accountant, again, "prepared", documents=[str(stamped["id"])])
    await answer(manager, await open_task(manager, deal_id, f"{PROCESS}.check"), "closed")

    temporal = await Client.connect(stack.temporal_address, namespace=stack.namespace)
    await temporal.get_workflow_handle(workflow_id).result()
    assert (await deal_state(manager, deal_id))["stage_id"] == won
    entries = (await manager.client.get(f"/deals/{deal_id}/timeline")).json()["items"]
    texts = " | ".join(e["text"] for e in entries)
    for fragment in ("In production at PrintCo", "ready", "documents prepared", "closed as won"):
        assert fragment.lower() in texts.lower(), f"timeline lacks {fragment!r}: {texts}"
