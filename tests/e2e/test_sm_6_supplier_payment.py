"""SM-6 Supplier payment, end to end through the gateway against the whole stack.

The manager creates a payment request to a supplier on a deal and submits it: the process
starts; the CEO approves it in the approval chain; an accountant gets "prepare payment",
answers it with the payment (recorded in the registry as money out, added to the deal's
costs) and then records the closing documents: the request is closed and the deal's
profit shows it.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually, problem
from tests.e2e.finance_helpers import deal_of, issued_invoice
from tests.e2e.test_pit_2_new_client_onboarding import (
    Person,
    Staff,
    decide,
    post,
    waiting_approval,
)
from tests.e2e.test_pit_2_new_client_onboarding import staff as staff  # the fixture

SUPPLIER_PAYMENT_TEMPLATE = {
    "name": "Supplier payment",
    "steps": [
        {"code": "ceo", "name": "CEO", "approvers": [{"kind": "role", "role": "ceo"}]},
    ],
    "on_reject": {"return_to_previous_stage": False, "allow_lose": False},
    "on_approve": {"notify": False},
}


async def seed_template(admin: httpx.AsyncClient, code: str, body: dict[str, Any]) -> None:
    resp = await admin.put(f"/approval-templates/{code}", json=body)
    assert resp.status_code in (200, 201), resp.text


async def my_task(who: Person, kind: str, **params: Any) -> dict[str, Any]:
    """The first open task of `kind` assigned to the person (waits for it)."""

    async def probe() -> dict[str, Any] | None:
        resp = await who.client.get(
            "/tasks", params={"assignee": "me", "status": "open", "limit": 200, **params}
        )
        assert resp.status_code == 200, resp.text
        return next((t for t in resp.json()["items"] if t["kind"] == kind), None)

    return await eventually(probe, timeout=30, what=f"an open {kind} task")


async def complete(who: Person, task_id: int, outcome: str, **data: Any) -> httpx.Response:
    return await who.client.post(
        f"/tasks/{task_id}/complete", json={"outcome": outcome, "data": data}
    )


async def test_sm_6_supplier_payment(stack: Stack, admin: httpx.AsyncClient, staff: Staff) -> None:
    tag = uuid.uuid4().hex[:6]
    await seed_template(admin, "supplier_payment", SUPPLIER_PAYMENT_TEMPLATE)
    sales = await post(admin, "/departments", {"name": f"Sales {tag}"})
    accounting = await post(admin, "/departments", {"name": f"Accounting {tag}"})
    manager = await staff.add("manager", "manager", sales["id"])
    ceo = await staff.add("ceo", "ceo")
    accountant = await staff.add("accountant", "accountant", accounting["id"])

    deal = await deal_of(admin, manager.client, f"Conference bags {tag}")
    lines = [{"description": "Bags", "quantity": "400", "unit_price": "25.00"}]
    invoice = await issued_invoice(manager.client, accountant.client, deal["id"], lines)
    resp = await accountant.client.post(
        f"/invoices/{invoice['id']}/payments", json={"amount": "10000.00"}
    )
    assert resp.status_code == 201, resp.text

    # The manager's request to the supplier, submitted: the process runs.
    request = await post(
        manager.client,
        "/payment-requests",
        {
            "deal_id": deal["id"],
            "counterparty": f"Bag factory {tag}",
            "purpose": "400 bags",
            "amount": "6000.00",
            "due_date": "2026-12-05",
        },
    )
    resp = await manager.client.post(f"/payment-requests/{request['id']}/submit")
    assert resp.status_code == 200, resp.text
    submitted = resp.json()
    assert submitted["status"] == "in_approval"
    assert submitted["process_id"].startswith(f"deal-{deal['id']}/supplier-payment/")
    resp = await manager.client.post(f"/payment-requests/{request['id']}/submit")
    assert resp.status_code == 409, "already in approval: no second process"

    # The CEO approves it in the chain (a decision, not a finance call).
    approval = await waiting_approval(ceo, deal["id"])
    resp = await decide(ceo, approval["id"], decision="approve", comment="ok, pay it")
    assert resp.status_code == 200, resp.text

    async def approved() -> dict[str, Any] | None:
        got = (await manager.client.get(f"/payment-requests/{request['id']}")).json()
        return got if got["status"] == "approved" else None

    assert (await eventually(approved, what="approved in finance"))["decided_by"] == ceo.id

    # The accountant's task: the answer records the payment, as the accountant.
    pay = await my_task(accountant, "supplier_payment.pay", deal_id=deal["id"])
    resp = await complete(manager, pay["id"], "paid")
    assert resp.status_code in (403, 404), "only an accountant pays"
    resp = await complete(accountant, pay["id"], "paid", reference="PP-6", paid_on="2026-12-01")
    assert resp.status_code == 200, resp.text
    close = await my_task(accountant, "supplier_payment.close", deal_id=deal["id"])
    resp = await complete(accountant, close["id"], "closed", documents=[])
    assert resp.status_code == 422 and problem(resp)["errors"][0]["field"] == "data"
    resp = await complete(
        accountant, close["id"], "closed", documents=["files/act-6.pdf", "files/waybill-6.pdf"]
    )
    assert resp.status_code == 200, resp.text

    async def closed() -> dict[str, Any] | None:
        got = (await manager.client.get(f"/payment-requests/{request['id']}")).json()
        return got if got["status"] == "closed" else None

    done = await eventually(closed, what="the request closed")
    assert done["paid_by"] == accountant.id
    assert done["closing_documents"] == ["files/act-6.pdf", "files/waybill-6.pdf"]

    resp = await accountant.client.get(
        "/payments", params={"deal_id": deal["id"], "direction": "out"}
    )
    assert resp.status_code == 200, resp.text
    (payment,) = resp.json()["items"]
    assert (payment["amount"], payment["reference"], payment["paid_on"]) == (
        "6000.00",
        "PP-6",
        "2026-12-01",
    )
    assert payment["counterparty"] == f"Bag factory {tag}"

    async def money() -> dict[str, Any] | None:
        fields = (await manager.client.get(f"/deals/{deal['id']}")).json()["fields"]
        return fields if fields.get("finance.costs") == "6000.00" else None

    fields = await eventually(money, timeout=5, what="the deal's costs")
    assert (fields["finance.revenue"], fields["finance.profit"]) == ("10000.00", "4000.00")
