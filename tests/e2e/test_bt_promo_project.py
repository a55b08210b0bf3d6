"""BT The promo agency's project, end to end through the gateway against the whole stack:
one run of `promo_project` that the five tests drive in turn (BT-1 … BT-5 share it).

BT-1 the deadline (a date field of the deal) reminds the manager and tells them it passed,
and moving the field reschedules the running watch; BT-2 proposal → contract → invoice
review loops move the deal's stage, the invoice is requested and issued in finance; BT-3
production waits for the prepayment registered in finance, our layouts are SM-3's loop as
a child process, both production sites get their tasks; BT-4 product cards checked against
the admin lists, each a production task; BT-5 a handover not accepted (rework), a card
ordered meanwhile, then accepted with an extra payment invoiced and paid in finance.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually, login, problem
from tests.e2e.test_pit_2_new_client_onboarding import Person, Staff, post, upload
from tests.e2e.test_sm_3_layout_revision import answer, open_task

K = "promo_project"
STAGES = ["Proposal", "Contract", "Invoice", "Production", "Handover", "Won"]


@dataclass
class Project:
    stack: Stack
    admin: httpx.AsyncClient
    manager: Person
    accountant: Person
    makers: list[Person]
    contractor: Person
    designer: Person
    deal_id: int
    stages: dict[str, int]
    workflow_id: str = ""
    seen: set[int] = field(default_factory=set)
    invoice_id: int = 0

    async def task(self, who: Person, kind: str) -> dict[str, Any]:
        return await open_task(who, self.deal_id, kind, self.seen)

    async def run(self) -> dict[str, Any]:
        resp = await self.manager.client.get(f"/deals/{self.deal_id}/processes/{self.workflow_id}")
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    async def stage(self) -> int:
        return int((await self.manager.client.get(f"/deals/{self.deal_id}")).json()["stage_id"])

    async def set_deadline(self, day: str) -> None:
        """PATCH the field (again on a 409: the process moves the deal meanwhile)."""
        path, body = f"/deals/{self.deal_id}", {"fields": {"project_deadline": day}}
        for _ in range(5):
            etag = (await self.manager.client.get(path)).headers["etag"]
            resp = await self.manager.client.patch(path, json=body, headers={"If-Match": etag})
            if resp.status_code != 409:
                break
        assert resp.status_code == 200, resp.text

    async def notices(self, kind: str) -> list[dict[str, Any]]:
        items = (await self.manager.client.get("/notifications")).json()["items"]
        return [n for n in items if n["kind"] == f"{K}.{kind}" and n["deal_id"] == self.deal_id]

    async def file(self, who: Person, name: str) -> str:
        resp = await upload(who, self.deal_id, name, b"%PDF-1.4 " + name.encode())
        assert resp.status_code == 201, resp.text
        return str(resp.json()["id"])

    async def done(self, who: Person, kind: str, outcome: str, **data: Any) -> dict[str, Any]:
        task = await self.task(who, kind)
        resp = await answer(who, task, outcome, **data)
        assert resp.status_code == 200, resp.text
        return task


def day(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


async def role(admin: httpx.AsyncClient, code: str, *permissions: str) -> str:
    body = {"name": code, "visibility": "all", "permissions": list(permissions)}
    resp = await admin.put(f"/roles/{code}", json=body)
    assert resp.status_code in (200, 201), resp.text
    return code


async def admin_list(admin: httpx.AsyncClient, code: str, rows: list[dict[str, str]]) -> str:
    columns = [{"code": c, "name": c, "type": "string"} for c in rows[0]]
    await post(admin, "/lists", {"code": code, "name": code, "columns": columns})
    for row in rows:
        await post(admin, f"/lists/{code}/items", {"values": row})
    return code


@pytest.fixture(scope="module")
async def bt(stack: Stack) -> AsyncIterator[Project]:
    admin = await login(stack.gateway_url, stack.admin_email, stack.admin_password)
    staff = Staff(stack, admin)
    tag = uuid.uuid4().hex[:6]
    # Roles of their own (roles are data), so people of other tests never do these steps.
    accounting = await role(
        admin, f"bt_acc_{tag}", "invoices.issue", "payments.record", "files.upload"
    )
    production = await role(admin, f"bt_prod_{tag}")
    contractors = await role(admin, f"bt_contr_{tag}")
    designers = await role(admin, f"bt_design_{tag}", "files.upload")
    types = await admin_list(
        admin,
        f"bt_types_{tag}",
        [{"code": "tshirt", "name": "T-shirt"}, {"code": "banner", "name": "Banner"}],
    )
    traits = await admin_list(
        admin,
        f"bt_traits_{tag}",
        [
            {"type": "tshirt", "characteristic": "material", "value": "cotton"},
            {"type": "tshirt", "characteristic": "size", "value": "XL"},
            {"type": "banner", "characteristic": "material", "value": "vinyl"},
        ],
    )
    team = await post(admin, "/departments", {"name": f"Promo {tag}"})
    manager = await staff.add("manager", "manager", team["id"])
    pipeline = await post(
        admin,
        "/pipelines",
        {
            "name": f"Promo projects {tag}",
            "stages": [
                {"name": n, "semantic": "won" if n == "Won" else "in_progress"}
                for n in ["New", *STAGES]
            ],
        },
    )
    resp = await admin.post(
        f"/pipelines/{pipeline['id']}/fields",
        json={"code": "project_deadline", "name": "Project deadline", "type": "date"},
    )
    assert resp.status_code == 201, resp.text
    deal = await post(
        manager.client,
        "/deals",
        {
            "pipeline_id": pipeline["id"],
            "title": f"Branded merch {tag}",
            "fields": {"project_deadline": day(10)},
        },
    )
    project = Project(
        stack=stack,
        admin=admin,
        manager=manager,
        accountant=await staff.add("accountant", accounting),
        makers=[await staff.add(f"maker{n}", production) for n in (1, 2)],
        contractor=await staff.add("contractor", contractors),
        designer=await staff.add("designer", designers),
        deal_id=deal["id"],
        stages={s["name"]: s["id"] for s in pipeline["stages"]},
    )
    params = {
        "accountant_role": accounting,
        "production_role": production,
        "contractor_role": contractors,
        "designer_id": str(project.designer.id),
        "types_list": types,
        "characteristics_list": traits,
    }
    resp = await manager.client.post(
        f"/deals/{deal['id']}/processes",
        json={"process": K, "params": {**params, "remind_days": [3, "x"]}},
    )
    assert resp.status_code == 422 and "remind_days" in resp.text
    resp = await manager.client.post(
        f"/deals/{deal['id']}/processes", json={"process": K, "params": params}
    )
    assert resp.status_code == 201, resp.text
    project.workflow_id = resp.json()["workflow_id"]
    assert project.workflow_id == f"deal-{deal['id']}/promo-project/1"
    yield project
    await staff.retire()
    await admin.aclose()


async def test_bt_1_the_deadline_reminds_the_manager_and_moves_with_the_deal_field(
    bt: Project,
) -> None:
    async def watched(on: str) -> bool:
        due = (await bt.run())["state"]["deadlines"].get("deadline")
        return bool(due) and str(due).startswith(on)

    await eventually(lambda: watched(day(10)), what="the deadline watched from the deal's field")
    assert await bt.notices("deadline_soon") == [], "10 days ahead: nothing to say yet"
    # Moved to the day after tomorrow: 3 days before it is already past, so it fires now.
    await bt.set_deadline(day(2))
    await eventually(lambda: watched(day(2)), timeout=30, what="the watch moved by the field")
    soon = await eventually(lambda: bt.notices("deadline_soon"), timeout=30, what="the reminder")
    assert len(soon) == 1 and "3 day(s)" in soon[0]["title"] and day(2) in soon[0]["title"]
    # Moved into the past: it has passed (the 1-day reminder is no news any more).
    await bt.set_deadline(day(-1))
    passed = await eventually(lambda: bt.notices("deadline_passed"), timeout=30, what="passed")
    assert len(passed) == 1 and day(-1) in passed[0]["title"]
    assert len(await bt.notices("deadline_soon")) == 1
    await bt.set_deadline(day(20))  # the project goes on with a future deadline
    await eventually(lambda: watched(day(20)), timeout=30, what="the watch moved again")
    timeline = (await bt.manager.client.get(f"/deals/{bt.deal_id}/timeline")).json()["items"]
    assert any("has passed" in e["text"] for e in timeline)


async def test_bt_2_proposal_contract_and_invoice_cycles_move_the_deal(bt: Project) -> None:
    m, acc = bt.manager, bt.accountant
    for n, verdict in enumerate(["changes_requested", "approved"], start=1):
        file_id = await bt.file(m, f"proposal-{n}.pdf")
        await bt.done(m, f"{K}.proposal.submit", "submitted", file_ids=[file_id])
        assert await bt.stage() == bt.stages["Proposal"]
        review = await bt.task(m, f"{K}.proposal.review")
        if verdict == "changes_requested":
            resp = await answer(m, review, verdict)
            assert resp.status_code == 422 and "comment" in problem(resp)["detail"]
        resp = await answer(m, review, verdict, comment="Cheaper mugs, please")
        assert resp.status_code == 200, resp.text
    contract = await bt.file(m, "contract.pdf")
    await bt.done(m, f"{K}.contract.submit", "submitted", file_ids=[contract])
    assert await bt.stage() == bt.stages["Contract"]
    await bt.done(m, f"{K}.contract.review", "approved")

    request = await bt.task(m, f"{K}.invoice.request")
    assert await bt.stage() == bt.stages["Invoice"]
    bad = {"counterparty": "Acme LLC", "amount": "15000.00", "currency": "RUBLES"}
    resp = await answer(m, request, "requested", **bad)
    assert resp.status_code == 422, "finance refuses the currency: the answer is refused"
    resp = await answer(m, request, "requested", **{**bad, "currency": "RUB"})
    assert resp.status_code == 200, resp.text
    invoices = (await m.client.get("/invoices", params={"deal_id": bt.deal_id})).json()["items"]
    (draft,) = invoices
    assert (draft["status"], draft["total"], draft["counterparty"]) == (
        "draft",
        "15000.00",
        "Acme LLC",
    )
    bt.invoice_id = draft["id"]
    invoice_file = await bt.file(acc, "invoice.pdf")
    await bt.done(acc, f"{K}.invoice.submit", "submitted", file_ids=[invoice_file])
    await bt.done(m, f"{K}.invoice.review", "approved")
    number = f"BT-{bt.deal_id}-{uuid.uuid4().hex[:4]}"
    await bt.done(acc, f"{K}.invoice.issue", "issued", number=number, due_date=day(14))
    invoice = (await m.client.get(f"/invoices/{bt.invoice_id}")).json()
    assert (invoice["status"], invoice["number"]) == ("issued", number)
    assert invoice["file"].endswith(f"/files/{invoice_file}"), "the file the client agreed to"
    rounds = (await bt.run())["state"]["details"]["cycles"]
    assert [len(rounds[c]) for c in ("proposal", "contract", "invoice")] == [2, 1, 1]


async def test_bt_3_prepayment_gates_production_our_layouts_run_sm_3_both_sites(
    bt: Project,
) -> None:
    m, acc = bt.manager, bt.accountant
    await bt.done(m, f"{K}.plan", "planned", prepayment=True, layouts="ours", production="both")
    prepayment = await bt.task(acc, f"{K}.prepayment")
    assert f"/invoices/{bt.invoice_id}" in prepayment["description"]
    # Our layouts: SM-3's loop as a child of the project, found by the deal's id.
    await bt.done(m, "layout_revision.brief", "filed", text="Logo on the chest")
    layout = await bt.file(bt.designer, "layout.pdf")
    await bt.done(bt.designer, "layout_revision.layout.submit", "submitted", file_ids=[layout])
    await bt.done(m, "layout_revision.layout.review", "approved")
    final = await bt.file(bt.designer, "final.pdf")
    await bt.done(bt.designer, "layout_revision.final", "uploaded", file_id=final)
    temporal = await Client.connect(bt.stack.temporal_address, namespace=bt.stack.namespace)
    child = await temporal.get_workflow_handle(f"{bt.workflow_id}/layout-revision").result()
    assert child["outcome"] == "approved"

    async def layouts_in() -> bool:
        return (await bt.run())["state"]["details"]["layout_file_ids"] == [final]

    await eventually(layouts_in, what="the layouts recorded")
    run = await bt.run()
    assert run["stage"] == "preparation" and not run["state"]["details"]["prepayment_registered"]
    mine = {"assignee": "me", "deal_id": bt.deal_id}
    tasks = (await bt.makers[0].client.get("/tasks", params=mine)).json()["items"]
    assert tasks == [], "production waits for the prepayment"

    resp = await acc.client.post(f"/invoices/{bt.invoice_id}/payments", json={"amount": "5000.00"})
    assert resp.status_code == 201, resp.text
    own = await bt.task(bt.makers[0], f"{K}.production.setup")
    third = await bt.task(bt.contractor, f"{K}.production.setup")
    assert m.id in own["watcher_ids"] and bt.makers[1].id in own["watcher_ids"]
    assert await bt.notices("prepaid")
    site = await eventually(lambda: bt.notices("production_site"), what="the site's notice")
    assert f"/tasks/{own['id']}" in site[0]["body"] and f"/tasks/{third['id']}" in site[0]["body"]
    assert await bt.stage() == bt.stages["Production"]
    tasks = (
        await acc.client.get("/tasks", params={"deal_id": bt.deal_id, "assignee": "me"})
    ).json()
    assert [t["status"] for t in tasks["items"] if t["id"] == prepayment["id"]] == ["cancelled"]
    for who, task, outcome in ((bt.makers[0], own, "ready"), (bt.contractor, third, "ordered")):
        resp = await answer(who, task, outcome)
        assert resp.status_code == 200, resp.text


async def test_bt_4_product_cards_from_the_lists_each_a_production_task(bt: Project) -> None:
    m = bt.manager
    card = await bt.task(m, f"{K}.card")
    resp = await answer(m, card, "added", type="mug", quantity="10", site="own")
    assert resp.status_code == 422, resp.text
    detail = problem(resp)["detail"]
    assert "'type' must be one of:" in detail and "got 'mug'" in detail and "banner" in detail
    resp = await answer(
        m,
        card,
        "added",
        type="tshirt",
        characteristics=["material=vinyl"],
        quantity="10",
        site="own",
    )
    assert resp.status_code == 422 and "characteristics[0]" in problem(resp)["detail"]
    resp = await answer(
        m, card, "added", type="tshirt", characteristics=["material=cotton"], quantity="10"
    )
    assert resp.status_code == 422 and "site" in problem(resp)["detail"], "both sites: say which"
    resp = await answer(
        m,
        card,
        "added",
        type="tshirt",
        characteristics=["material=cotton", "size=XL"],
        quantity="100",
        site="own",
    )
    assert resp.status_code == 200, resp.text
    shirts = await bt.task(bt.makers[0], f"{K}.production")
    assert "material=cotton" in shirts["description"] and m.id in shirts["watcher_ids"]
    card = await bt.task(m, f"{K}.card")
    resp = await answer(
        m,
        card,
        "added",
        type="banner",
        characteristics=["material=vinyl"],
        quantity="2",
        site="third_party",
    )
    assert resp.status_code == 200, resp.text
    banners = await bt.task(bt.contractor, f"{K}.production")
    details = (await bt.run())["state"]["details"]
    assert [(c["type"], c["site"], c["made"]) for c in details["cards"]] == [
        ("tshirt", "own", False),
        ("banner", "third_party", False),
    ]
    for who, task in ((bt.makers[0], shirts), (bt.contractor, banners)):
        resp = await answer(who, task, "produced")
        assert resp.status_code == 200, resp.text


async def test_bt_5_handover_rework_a_card_meanwhile_then_accepted_with_an_extra_payment(
    bt: Project,
) -> None:
    m, acc = bt.manager, bt.accountant
    handover = await bt.task(m, f"{K}.handover")
    assert await bt.stage() == bt.stages["Handover"]
    resp = await answer(m, handover, "not_accepted")
    assert resp.status_code == 422, "not accepted says why"
    resp = await answer(m, handover, "not_accepted", comment="The print is pale")
    assert resp.status_code == 200, resp.text
    rework = await bt.task(bt.makers[0], f"{K}.rework")
    assert "pale" in rework["description"]
    assert (await answer(bt.makers[0], rework, "done")).status_code == 200

    handover = await bt.task(m, f"{K}.handover")
    card = await bt.task(m, f"{K}.card")  # the client orders more mid-project
    resp = await answer(
        m, card, "added", type="tshirt", characteristics=["size=XL"], quantity="20", site="own"
    )
    assert resp.status_code == 200, resp.text
    more = await bt.task(bt.makers[0], f"{K}.production")
    resp = await answer(m, handover, "accepted", extra_payment=True)
    assert resp.status_code == 422 and "extra_amount" in problem(resp)["detail"]
    resp = await answer(m, handover, "accepted", extra_payment=True, extra_amount="2500.00")
    assert resp.status_code == 200, resp.text

    issue = await bt.task(acc, f"{K}.extra_payment.issue")
    extra_id = (await bt.run())["state"]["details"]["extra_invoice_id"]
    extra = (await m.client.get(f"/invoices/{extra_id}")).json()
    assert (extra["status"], extra["total"]) == ("draft", "2500.00")
    resp = await answer(
        acc, issue, "issued", number=f"BT-X-{uuid.uuid4().hex[:6]}", due_date=day(7)
    )
    assert resp.status_code == 422, "the extra invoice needs its file"
    extra_file = await bt.file(acc, "extra.pdf")
    resp = await answer(
        acc,
        issue,
        "issued",
        number=f"BT-X-{uuid.uuid4().hex[:6]}",
        due_date=day(7),
        file_id=extra_file,
    )
    assert resp.status_code == 200, resp.text
    assert (await bt.run())["stage"] == "extra_payment", "waiting for the money"
    resp = await acc.client.post(f"/invoices/{extra_id}/payments", json={"amount": "2500.00"})
    assert resp.status_code == 201 and resp.json()["invoice"]["status"] == "fully_paid"
    await eventually(lambda: bt.notices("extra_paid"), timeout=30, what="the extra payment seen")
    run = await bt.run()
    assert run["status"] == "running", "the card ordered last is not made yet"
    assert run["state"]["details"]["production_open"] == [str(more["id"])]
    assert (await answer(bt.makers[0], more, "produced")).status_code == 200

    async def finished() -> dict[str, Any] | None:
        now = await bt.run()
        return now if now["status"] == "completed" else None

    done = await eventually(finished, timeout=30, what="the project finished")
    assert done["stage"] == "done"
    assert [h["outcome"] for h in done["state"]["details"]["handovers"]] == [
        "not_accepted",
        "accepted",
    ]
    assert len(done["state"]["details"]["cards"]) == 3
    timeline = (await m.client.get(f"/deals/{bt.deal_id}/timeline")).json()["items"]
    assert any(e["kind"] == "process_finished" for e in timeline)
