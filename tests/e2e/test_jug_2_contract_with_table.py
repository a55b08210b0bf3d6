"""JUG-2 Contract with a computed table, end to end through the gateway against the whole
stack: the deal's line items priced by the deals service, the clerk's task carrying their
table (each row linking to its product), the deal moving to Approval once the contract is
attached, a non-standard round when the client does not accept, and the deal moving on once
the client agrees."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from temporalio.client import Client

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually
from tests.e2e.test_pit_2_new_client_onboarding import Person, Staff, post, upload
from tests.e2e.test_pit_2_new_client_onboarding import staff as staff  # the fixture
from tests.e2e.test_products_line_items import make_product
from tests.e2e.test_sm_3_layout_revision import answer, open_task

PROCESS = "contract_with_table"
SUBMIT, REVIEW = f"{PROCESS}.contract.submit", f"{PROCESS}.contract.review"
PERCENT = {"discount_type": "percent"}


async def test_jug_2_contract_with_a_computed_table(
    stack: Stack, admin: httpx.AsyncClient, staff: Staff
) -> None:
    tag = uuid.uuid4().hex[:6]
    manager = await staff.add("manager", "manager")
    clerk = await staff.add("clerk", "clerk")
    pipeline = await post(
        admin,
        "/pipelines",
        {
            "name": f"Sponsors {tag}",
            "stages": [
                {"name": "Contract", "semantic": "in_progress"},
                {"name": "Approval", "semantic": "in_progress"},
                {"name": "Invoice", "semantic": "in_progress"},
                {"name": "Won", "semantic": "won"},
            ],
        },
    )
    contract, approval, invoice = (s["id"] for s in pipeline["stages"][:3])
    resp = await admin.put(
        "/roles/clerk",
        json={
            "name": "Clerk",
            "visibility": "own",
            "permissions": ["deals.edit", "contracts.create", "files.upload"],
            "pipelines": [{"pipeline_id": pipeline["id"], "visibility": "all"}],
        },
    )
    assert resp.status_code == 200, resp.text
    deal = await post(manager.client, "/deals", {"pipeline_id": pipeline["id"], "title": "Booth"})
    deal_id = deal["id"]
    booth = await make_product(
        admin, name="Booth 3x3", type="booth", price="150000.00", vat_rate="20"
    )
    talk = await make_product(admin, name="Talk slot", type="slot", price="80000.00", vat_rate="20")
    booth_row = {"product_id": booth["id"], "quantity": "1", "discount": "10", **PERCENT}
    talk_row = {"product_id": talk["id"], "quantity": "2", "discount": "5000.00"}
    resp = await put_items(manager, deal_id, booth_row, talk_row)
    assert resp.status_code == 200, resp.text
    assert resp.json()["totals"]["total"] == "348000.00"  # (135000 + 155000) × 1.2

    resp = await manager.client.post(
        f"/deals/{deal_id}/processes", json={"process": PROCESS, "params": {}}
    )
    assert resp.status_code == 201, resp.text
    workflow_id = resp.json()["workflow_id"]

    seen: set[int] = set()
    prepare = await open_task(clerk, deal_id, SUBMIT, seen)
    text = prepare["description"]
    assert f"{booth['code']} Booth 3x3 (/api/v1/products/{booth['id']})" in text
    assert "1 pcs × 150000.00 − 15000.00 = 135000.00" in text
    assert "2 pcs × 80000.00 − 5000.00 = 155000.00" in text
    assert "Totals (RUB): net 290000.00, VAT 58000.00, total 348000.00" in text
    assert (await manager.client.get(f"/deals/{deal_id}")).json()["stage_id"] == contract

    first = (await upload(clerk, deal_id, "contract.pdf", b"%PDF-1.4 standard")).json()
    resp = await answer(clerk, prepare, "submitted", file_ids=[str(first["id"])])
    assert resp.status_code == 200, resp.text

    async def in_stage(stage_id: int) -> bool:
        return bool((await manager.client.get(f"/deals/{deal_id}")).json()["stage_id"] == stage_id)

    await eventually(lambda: in_stage(approval), what="the deal in Approval")
    review = await open_task(manager, deal_id, REVIEW, seen)
    assert str(first["id"]) in review["description"]
    # The client wants other terms: the manager puts them in the line items and asks for a
    # non-standard contract, whose table is computed again from them.
    talk_row = {"product_id": talk["id"], "quantity": "2", "discount": "20", **PERCENT}
    resp = await put_items(manager, deal_id, booth_row, talk_row)
    assert resp.status_code == 200, resp.text
    resp = await answer(
        manager, review, "changes_requested", comment="A 20 % discount on the talk slots"
    )
    assert resp.status_code == 200, resp.text
    again = await open_task(clerk, deal_id, SUBMIT, seen)
    assert "non-standard" in again["title"]
    assert "A 20 % discount on the talk slots" in again["description"]
    assert "2 pcs × 80000.00 − 32000.00 = 128000.00" in again["description"]
    second = (await upload(clerk, deal_id, "contract-ns.pdf", b"%PDF-1.4 special")).json()
    resp = await answer(clerk, again, "submitted", file_ids=[str(second["id"])])
    assert resp.status_code == 200, resp.text
    review = await open_task(manager, deal_id, REVIEW, seen)
    assert (await manager.client.get(f"/deals/{deal_id}")).json()["stage_id"] == approval
    resp = await answer(manager, review, "approved")
    assert resp.status_code == 200, resp.text

    temporal = await Client.connect(stack.temporal_address, namespace=stack.namespace)
    result = await temporal.get_workflow_handle(workflow_id).result()
    assert result["contract_file_ids"] == [str(second["id"])]
    assert result["table"]["total"] == "315600.00"  # (135000 + 128000) × 1.2
    await eventually(lambda: in_stage(invoice), what="the deal moved on")
    run = (await manager.client.get(f"/deals/{deal_id}/processes/{workflow_id}")).json()
    assert run["stage"] == "agreed"
    rows = run["state"]["details"]["table"]["items"]
    assert [r["product_path"] for r in rows] == [
        f"/api/v1/products/{booth['id']}",
        f"/api/v1/products/{talk['id']}",
    ]
    assert [r["outcome"] for r in run["state"]["details"]["rounds"]] == [
        "changes_requested",
        "approved",
    ]


async def put_items(who: Person, deal_id: int, *rows: dict[str, Any]) -> httpx.Response:
    return await who.client.put(f"/deals/{deal_id}/items", json={"items": list(rows)})
