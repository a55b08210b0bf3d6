"""SM-5: a manager requests an invoice, the accountant issues it, partial payments are
recorded in the registry, the balance follows each one, at zero the invoice is fully paid
(once on NATS); the deal shows the revenue within a second."""

from __future__ import annotations

import time

import httpx

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually, problem
from tests.e2e.finance_helpers import deal_of, finance_events, issued_invoice, people


async def test_sm_5_client_invoice_and_payments(stack: Stack, admin: httpx.AsyncClient) -> None:
    (manager, as_manager), (_, as_other), (_, as_accountant) = await people(
        stack, admin, "manager", "manager", "accountant"
    )
    deal = await deal_of(admin, as_manager, "Branded pens")
    lines = [
        {"description": "Pens, printed", "quantity": "1000", "unit_price": "12.50"},
        {"description": "Layout", "quantity": "1", "unit_price": "0.01"},
    ]
    resp = await as_accountant.post("/invoices", json={"deal_id": deal["id"], "counterparty": "X"})
    assert resp.status_code == 403, "an accountant does not request invoices"
    invoice = await issued_invoice(as_manager, as_accountant, deal["id"], lines)
    assert (invoice["status"], invoice["total"], invoice["balance"]) == (
        "issued",
        "12500.01",
        "12500.01",
    )

    url = f"/invoices/{invoice['id']}/payments"
    resp = await as_accountant.post(url, json={"amount": 5000.0})
    assert resp.status_code == 422, "amounts are strings, never JSON numbers"
    assert problem(resp)["errors"][0]["field"].endswith("amount")
    resp = await as_accountant.post(url, json={"amount": "5000.005"})
    assert resp.status_code == 422
    resp = await as_manager.post(url, json={"amount": "1.00"})
    assert resp.status_code == 403, "a manager does not record payments"

    resp = await as_accountant.post(url, json={"amount": "5000.00", "reference": "PP-1"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["invoice"]["status"] == "partially_paid"
    assert resp.json()["invoice"]["balance"] == "7500.01"
    paid_at = time.monotonic()

    async def revenue_on_deal() -> str | None:
        fields = (await as_manager.get(f"/deals/{deal['id']}")).json()["fields"]
        return fields.get("finance.revenue") if fields.get("finance.revenue") == "5000.00" else None

    await eventually(revenue_on_deal, timeout=5, what="the deal's revenue")
    assert time.monotonic() - paid_at < 1.5, "the deal's figures follow a payment within ~1 s"

    key = {"Idempotency-Key": "final-payment"}
    resp = await as_accountant.post(url, json={"amount": "7500.01"}, headers=key)
    assert resp.status_code == 201, resp.text
    again = await as_accountant.post(url, json={"amount": "7500.01"}, headers=key)
    assert again.json()["payment"]["id"] == resp.json()["payment"]["id"], "a retry records once"
    final = resp.json()["invoice"]
    assert (final["status"], final["balance"], final["paid"]) == ("fully_paid", "0.00", "12500.01")

    resp = await as_accountant.post(url, json={"amount": "-10.00", "reference": "refund"})
    assert resp.json()["invoice"]["status"] == "partially_paid", "a refund reopens it"
    resp = await as_accountant.post(url, json={"amount": "25.00"})
    assert resp.json()["invoice"]["overpaid"] == "15.00", "an overpayment is kept"
    assert resp.json()["payment"]["overpayment"] == "15.00"

    registry = (await as_manager.get("/payments", params={"counterparty": "acme"})).json()
    amounts = [p["amount"] for p in registry["items"] if p["invoice_id"] == invoice["id"]]
    assert amounts == ["25.00", "-10.00", "7500.01", "5000.00"]
    assert (await as_other.get(f"/invoices/{invoice['id']}")).status_code == 404
    other_view = (await as_other.get("/payments")).json()["items"]
    assert all(p["invoice_id"] != invoice["id"] for p in other_view), "registry obeys visibility"
    listed = (await as_manager.get(url)).json()["items"]
    assert len(listed) == 4
    schedule = (await as_manager.get("/payment-schedule")).json()
    assert [e["state"] for e in schedule if e["source_id"] == invoice["id"]] == ["paid"]

    subject = f"invoice/{invoice['id']}"
    fully = await finance_events(stack.nats_url, subject, "finance.invoice.fully_paid", 2)
    assert [e.data["times"] for e in fully] == [1, 2]  # each time the balance reaches zero
    assert fully[0].actor != "" and fully[0].data["deal_id"] == str(deal["id"])
    await as_manager.aclose()
    await as_other.aclose()
    await as_accountant.aclose()
