"""SM-8: a deal's margin = client revenue − supplier costs, kept on the deal from finance
events and in a margin report per manager and period for heads (visibility applies).
The supplier cost comes through SM-6: the CEO approves the payment request in the approval
chain and the accountant's task answer pays it."""

from __future__ import annotations

from datetime import date

import httpx

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually
from tests.e2e.finance_helpers import deal_of, issued_invoice, people
from tests.e2e.test_pit_2_new_client_onboarding import Person, decide, waiting_approval
from tests.e2e.test_sm_6_supplier_payment import (
    SUPPLIER_PAYMENT_TEMPLATE,
    complete,
    my_task,
    seed_template,
)


async def test_sm_8_margin(stack: Stack, admin: httpx.AsyncClient) -> None:
    await seed_template(admin, "supplier_payment", SUPPLIER_PAYMENT_TEMPLATE)
    (
        (manager, as_manager),
        (ceo, as_ceo),
        (_, as_head),
        (accountant_user, as_accountant),
    ) = await people(stack, admin, "manager", "ceo", "head_of_sales", "accountant")
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
    resp = await as_manager.post(f"/payment-requests/{request['id']}/submit")
    assert resp.json()["status"] == "in_approval", resp.text
    approval = await waiting_approval(Person(ceo["id"], as_ceo), deal["id"])
    resp = await decide(Person(ceo["id"], as_ceo), approval["id"], decision="approve")
    assert resp.status_code == 200, resp.text
    accountant = Person(accountant_user["id"], as_accountant)
    pay = await my_task(accountant, "supplier_payment.pay", deal_id=deal["id"])
    resp = await complete(accountant, pay["id"], "paid", reference="PP-77")
    assert resp.status_code == 200, resp.text
    close = await my_task(accountant, "supplier_payment.close", deal_id=deal["id"])
    resp = await complete(accountant, close["id"], "closed", documents=["files/act-77.pdf"])
    assert resp.status_code == 200, resp.text
    closed = (await as_manager.get(f"/payment-requests/{request['id']}")).json()
    assert closed["status"] == "closed", closed

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
