"""SM-8: a deal's margin = client revenue − supplier costs, kept on the deal from finance
events and in a margin report per manager and period for heads (visibility applies).
SM-6 up to the approval seam: the supplier payment is approved by the system call the
approval chain will make (phase 2), then paid by the accountant through the gateway."""

from __future__ import annotations

from datetime import date

import httpx
from dealflow.finance.v1 import finance_pb2, finance_pb2_grpc

from deploy.local.stack import Stack
from services.common.grpc_client import call, channel
from tests.e2e.conftest import eventually
from tests.e2e.finance_helpers import deal_of, issued_invoice, people


async def approve_as_the_chain(stack: Stack, request_id: int, decided_by: int) -> None:
    async with channel(f"127.0.0.1:{stack.ports.finance}") as ch:
        stub = finance_pb2_grpc.FinanceServiceStub(ch)
        await call(
            stub.DecideSpend,
            finance_pb2.DecideSpendRequest(
                kind="supplier_payment",
                spend_id=str(request_id),
                outcome="approve",
                decided_by=str(decided_by),
            ),
        )


async def test_sm_8_margin(stack: Stack, admin: httpx.AsyncClient) -> None:
    (manager, as_manager), (ceo, as_ceo), (_, as_head), (_, as_accountant) = await people(
        stack, admin, "manager", "ceo", "head_of_sales", "accountant"
    )
    deal = await deal_of(admin, as_manager, "Conference bags")
    lines = [{"description": "Bags", "quantity": "400", "unit_price": "25.00"}]
    invoice = await issued_invoice(as_manager, as_accountant, deal["id"], lines)
    resp = await as_accountant.post(
        f"/invoices/{invoice['id']}/payments", json={"amount": "10000.00"}
    )
    assert resp.json()["invoice"]["status"] == "fully_paid", resp.text

    resp = await as_manager.post(
        "/payment-requests",
        json={
            "deal_id": deal["id"],
            "counterparty": "Bag factory",
            "purpose": "400 bags",
            "amount": "6000.00",
            "due_date": "2026-12-05",
        },
    )
    assert resp.status_code == 201, resp.text
    request = resp.json()
    pay_url = f"/payment-requests/{request['id']}/pay"
    assert (await as_accountant.post(pay_url, json={})).status_code == 409, "not approved yet"
    resp = await as_manager.post(f"/payment-requests/{request['id']}/submit")
    assert resp.json()["status"] == "in_approval", resp.text
    await approve_as_the_chain(stack, request["id"], ceo["id"])
    resp = await as_accountant.post(pay_url, json={"reference": "PP-77"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["payment"]["direction"] == "out"
    resp = await as_accountant.post(
        f"/payment-requests/{request['id']}/close", json={"documents": ["files/act-77.pdf"]}
    )
    assert resp.json()["status"] == "closed", resp.text

    async def margin_on_deal() -> dict[str, object] | None:
        fields = (await as_manager.get(f"/deals/{deal['id']}")).json()["fields"]
        return fields if fields.get("finance.costs") == "6000.00" else None

    fields = await eventually(margin_on_deal, timeout=5, what="the deal's costs")
    assert fields["finance.revenue"] == "10000.00"
    assert fields["finance.profit"] == "4000.00"
    assert fields["finance.profit_percent"] == "40.00"

    today = date.today().isoformat()
    period = {"date_from": today, "date_to": today}
    rows = (await as_ceo.get("/reports/margin", params=period)).json()
    mine = [r for r in rows if r["manager_id"] == manager["id"]]
    assert mine == [
        {
            "manager_id": manager["id"],
            "currency": "RUB",
            "revenue": "10000.00",
            "costs": "6000.00",
            "profit": "4000.00",
            "profit_percent": "40.00",
            "deals": 1,
        }
    ]
    assert (await as_manager.get("/reports/margin", params=period)).status_code == 403
    head_rows = (await as_head.get("/reports/margin", params=period)).json()
    assert all(r["manager_id"] != manager["id"] for r in head_rows), "not the head's department"
    resp = await as_ceo.get("/reports/margin", params={"date_from": today})
    assert resp.status_code == 422
    for client in (as_manager, as_ceo, as_head, as_accountant):
        await client.aclose()
