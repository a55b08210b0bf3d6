"""SN-6 Expense payment, end to end through the gateway against the whole stack.

Two expenses wait in draft, one on a deal and one not; each holds a task for its author
due on its due date (the calendar). Submitted, the head decides: the one without a deal
through the head's task (rejected with a comment: back to the author, resubmitted: a new
run, approved), the one on the deal in the approval chain. The accountant's answers pay
them; the deal's costs and profit follow within a second and the head is notified with
links to the expense and the deal. The payment schedule shows running totals in creation
order for a period; an admin resets them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
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
from tests.e2e.test_sm_6_supplier_payment import complete, seed_template

EXPENSE_TEMPLATE = {
    "name": "Expense",
    "steps": [{"code": "head", "name": "Head", "approvers": [{"kind": "head"}], "quorum": "any"}],
    "on_reject": {"return_to_previous_stage": False, "allow_lose": False},
    "on_approve": {"notify": False},
}
PERIOD = {"date_from": "2026-12-01", "date_to": "2026-12-31"}


async def task_about(who: Person, kind: str, expense_id: int) -> dict[str, Any]:
    """The person's open task of `kind` about the expense (waits for it)."""

    async def probe() -> dict[str, Any] | None:
        resp = await who.client.get(
            "/tasks", params={"assignee": "me", "status": "open", "limit": 200}
        )
        assert resp.status_code == 200, resp.text
        return next(
            (
                t
                for t in resp.json()["items"]
                if t["kind"] == kind and f"Expense {expense_id}" in t["title"]
            ),
            None,
        )

    return await eventually(probe, timeout=30, what=f"an open {kind} task")


async def expense(who: Person, expense_id: int, status: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        got = (await who.client.get(f"/expenses/{expense_id}")).json()
        return got if got["status"] == status else None

    return await eventually(probe, what=f"expense {expense_id} {status}")


async def test_sn_6_expense_payment(stack: Stack, admin: httpx.AsyncClient, staff: Staff) -> None:
    tag = uuid.uuid4().hex[:6]
    await seed_template(admin, "expense", EXPENSE_TEMPLATE)
    sales = await post(admin, "/departments", {"name": f"Sales {tag}"})
    accounting = await post(admin, "/departments", {"name": f"Accounting {tag}"})
    manager = await staff.add("manager", "manager", sales["id"])
    head = await staff.add("head", "head_of_sales", sales["id"])
    accountant = await staff.add("accountant", "accountant", accounting["id"])
    resp = await admin.patch(f"/departments/{sales['id']}", json={"head_id": head.id})
    assert resp.status_code == 200, resp.text

    deal = await deal_of(admin, manager.client, f"Trade show {tag}")
    lines = [{"description": "Stand", "quantity": "1", "unit_price": "10000.00"}]
    invoice = await issued_invoice(manager.client, accountant.client, deal["id"], lines)
    resp = await accountant.client.post(
        f"/invoices/{invoice['id']}/payments", json={"amount": "10000.00"}
    )
    assert resp.status_code == 201, resp.text

    # Two expenses wait in the first stage; the one without a deal is created second.
    on_deal = await post(
        manager.client,
        "/expenses",
        {
            "deal_id": deal["id"],
            "purpose": "Courier",
            "amount": "1500.00",
            "due_date": "2026-12-10",
        },
    )
    loose = await post(
        manager.client,
        "/expenses",
        {"purpose": "Taxi to the show", "amount": "700.00", "due_date": "2026-12-03"},
    )
    drafts = (await manager.client.get("/expenses", params={"status": "draft"})).json()["items"]
    assert {on_deal["id"], loose["id"]} <= {e["id"] for e in drafts}

    # Submitted: a process each; the author's task is due on the expense's due date.
    started = {}
    for e in (on_deal, loose):
        resp = await manager.client.post(f"/expenses/{e['id']}/submit")
        assert resp.status_code == 200, resp.text
        started[e["id"]] = resp.json()["process_id"]
    assert started[on_deal["id"]].startswith(f"deal-{deal['id']}/expense-payment/")
    assert started[loose["id"]] == f"expense-{loose['id']}/expense-payment/1"
    due = await task_about(manager, "expense.due", loose["id"])
    assert datetime.fromisoformat(due["deadline"]) == datetime(2026, 12, 3, tzinfo=UTC)

    # The head rejects the one without a deal: a comment is required; back to the author.
    ask = await task_about(head, "expense.approval", loose["id"])
    resp = await complete(head, ask["id"], "reject")
    assert resp.status_code == 422 and problem(resp)["errors"][0]["field"] == "data"
    resp = await complete(head, ask["id"], "reject", comment="Take the shuttle, it is free")
    assert resp.status_code == 200, resp.text
    back = await task_about(manager, "expense.rejected", loose["id"])
    assert "Take the shuttle, it is free" in back["title"]
    rejected = await expense(manager, loose["id"], "rejected")
    assert (rejected["decision_comment"], rejected["decided_by"]) == (
        "Take the shuttle, it is free",
        head.id,
    )
    resp = await complete(manager, back["id"], "done")
    assert resp.status_code == 200, resp.text

    # Resubmitted: a new run; approved this time.
    resp = await manager.client.post(f"/expenses/{loose['id']}/submit")
    assert resp.json()["process_id"] == f"expense-{loose['id']}/expense-payment/2", resp.text
    ask = await task_about(head, "expense.approval", loose["id"])
    assert (await complete(head, ask["id"], "approve")).status_code == 200

    # The one on the deal: the head decides in the approval chain.
    approval = await waiting_approval(head, deal["id"])
    resp = await decide(head, approval["id"], decision="approve")
    assert resp.status_code == 200, resp.text

    # The accountant prepares and records both payments.
    for e in (loose, on_deal):
        await expense(manager, e["id"], "approved")
        pay = await task_about(accountant, "expense.pay", e["id"])
        resp = await complete(accountant, pay["id"], "paid", reference=f"cash-{e['id']}")
        assert resp.status_code == 200, resp.text

    async def money() -> dict[str, Any] | None:
        fields = (await manager.client.get(f"/deals/{deal['id']}")).json()["fields"]
        return fields if fields.get("finance.costs") == "1500.00" else None

    fields = await eventually(money, timeout=1.0, what="the deal's costs within a second")
    assert (fields["finance.revenue"], fields["finance.profit"]) == ("10000.00", "8500.00")
    for e in (loose, on_deal):
        assert (await expense(manager, e["id"], "paid"))["paid_by"] == accountant.id

    # The head is told, with links to the expense and the deal.
    async def notices() -> list[dict[str, Any]] | None:
        items = (await head.client.get("/notifications")).json()["items"]
        paid = [n for n in items if n["kind"] == "expense.paid"]
        return paid if len(paid) == 2 else None

    by_deal = {n["deal_id"]: n for n in await eventually(notices, what="the head's notices")}
    assert by_deal[deal["id"]]["body"].splitlines() == [
        f"Expense: /api/v1/expenses/{on_deal['id']}",
        f"Deal: /api/v1/deals/{deal['id']}",
    ]
    assert by_deal[None]["body"] == f"Expense: /api/v1/expenses/{loose['id']}"
    for link in by_deal[deal["id"]]["body"].splitlines():
        path = link.split(": ", 1)[1].removeprefix("/api/v1")
        assert (await head.client.get(path)).status_code == 200, path

    # The payment schedule of December: by due date, running totals in creation order.
    async def schedule(who: Person) -> list[dict[str, Any]]:
        resp = await who.client.get("/payment-schedule", params=PERIOD)
        assert resp.status_code == 200, resp.text
        return [e for e in resp.json() if e["source"] == "expense"]

    entries = await schedule(manager)
    assert [(e["source_id"], e["due_date"], e["state"]) for e in entries] == [
        (loose["id"], "2026-12-03", "paid"),
        (on_deal["id"], "2026-12-10", "paid"),
    ]
    assert [e["running_total"] for e in entries] == ["2200.00", "1500.00"]

    # An admin resets the running totals; the manager may not.
    assert (await manager.client.post("/payment-schedule/reset")).status_code == 403
    resp = await admin.post("/payment-schedule/reset")
    assert resp.status_code == 200, resp.text
    assert [e["running_total"] for e in await schedule(manager)] == ["0.00", "0.00"]
    late = await post(
        manager.client,
        "/expenses",
        {"purpose": "Parking", "amount": "300.00", "due_date": "2026-12-01"},
    )
    entries = await schedule(manager)
    assert [(e["source_id"], e["running_total"]) for e in entries] == [
        (late["id"], "300.00"),
        (loose["id"], "0.00"),
        (on_deal["id"], "0.00"),
    ]
