"""Broken access, checked on every route of the gateway's OpenAPI (on a stack of its own).

An admin builds one record of every kind (a deal with a task, a process run and an approval,
a contract, an invoice, a payment request, an expense, a file, an API token, a company, a
contact, a lead, an exclusion, and the configuration: a contact field, a lead funnel,
a user, departments, a role, a pipeline with a rule, a list with an item, an approval
template, a contract type). Then, on every operation the OpenAPI lists:
- an outsider (a manager of another department, visibility `own`) gets 404 for every
  operation on a record of someone else (read or write), 404 for a create that names one
  of them (a deal_id it does not see), 403 for every change of the configuration, and no
  list it reads carries one of the hidden records;
- a viewer (a role that sees everything and may do nothing) gets 403 for every mutation
  (404 where it does not see the record).
A path parameter the table in `access_matrix.py` does not know fails the sweep."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from deploy.local.stack import Stack
from tests.e2e.access_matrix import (
    FIELD_KINDS,
    OWNED_ONLY,
    PRIVATE,
    SHARED,
    Inputs,
    Operation,
    ids_in,
    operations,
)
from tests.e2e.conftest import eventually, login, running_stack

pytestmark = pytest.mark.timeout(300)
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def matrix_stack(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Stack]:
    yield from running_stack(tmp_path_factory, request, "matrix")


@dataclass
class World:
    spec: dict[str, Any]
    ids: dict[str, str]  # kind -> the id (or code) of the admin's record of that kind
    mark: str  # in the text of every private record: a list that shows it leaks it
    admin: httpx.AsyncClient
    admin_id: int
    outsider: httpx.AsyncClient
    viewer: httpx.AsyncClient


async def _made(resp: httpx.Response) -> dict[str, Any]:
    assert resp.status_code in (200, 201), f"{resp.request.method} {resp.request.url}: {resp.text}"
    return dict(resp.json())


async def _user(admin: httpx.AsyncClient, base: str, role: str, dept: int) -> httpx.AsyncClient:
    email = f"{role}-{uuid.uuid4().hex[:8]}@matrix.test"
    body = {"email": email, "name": role, "password": PASSWORD, "roles": [role]}
    await _made(await admin.post("/users", json={**body, "department_id": dept}))
    return await login(base, email, PASSWORD)


async def _first(client: httpx.AsyncClient, path: str, deal_id: str) -> str:
    async def probe() -> str | None:
        page = await client.get(path, params={"assignee": "me", "deal_id": deal_id})
        assert page.status_code == 200, page.text
        items = page.json()["items"]
        return str(items[0]["id"]) if items else None

    return await eventually(probe, timeout=30, what=f"one of {path} on deal {deal_id}")


async def _build(admin: httpx.AsyncClient, base: str, tag: str, mark: str) -> dict[str, str]:
    """One record of each kind, made by the admin (responsible and owner of the deal's)."""
    ids: dict[str, str] = {}
    mine = await _made(await admin.post("/departments", json={"name": f"Owners {tag}"}))
    ids["department"] = str(mine["id"])
    target = await _made(
        await admin.post(
            "/users",
            json={
                "email": f"target-{tag}@matrix.test",
                "name": "Target",
                "password": PASSWORD,
                "roles": ["clerk"],
            },
        )
    )
    ids["user"] = str(target["id"])
    stages = [
        {"name": "New", "semantic": "in_progress"},
        {"name": "Next", "semantic": "in_progress"},
        {"name": "Won", "semantic": "won"},
    ]
    pipeline = await _made(
        await admin.post("/pipelines", json={"name": f"Matrix {tag}", "stages": stages})
    )
    ids["pipeline"] = str(pipeline["id"])
    rule = {
        "stage_id": pipeline["stages"][2]["id"],
        "event": "enter",
        "process": "sample_return",
        "params": {"return_by": "2026-12-31"},
    }
    ids["rule"] = str(
        (await _made(await admin.post(f"/pipelines/{pipeline['id']}/rules", json=rule)))["id"]
    )
    columns = [{"code": "name", "name": "Name"}]
    code = f"matrix_{tag}"
    await _made(await admin.post("/lists", json={"code": code, "name": "M", "columns": columns}))
    ids["list"] = code
    item = await _made(await admin.post(f"/lists/{code}/items", json={"values": {"name": "a"}}))
    ids["list_item"] = str(item["id"])
    product = {"code": f"MATRIX-{tag}", "name": "M", "type": "matrix", "price": "1.00"}
    ids["product"] = str((await _made(await admin.post("/products", json=product)))["id"])
    ids["role"] = "manager"
    deal = await _made(
        await admin.post("/deals", json={"pipeline_id": pipeline["id"], "title": f"{mark} deal"})
    )
    ids["deal"] = deal_id = str(deal["id"])
    started = await admin.post(
        f"/deals/{deal_id}/processes",
        json={"process": "sample_return", "params": {"return_by": "2026-12-31"}},
    )
    ids["process_run"] = str((await _made(started))["workflow_id"])
    ids["task"] = await _first(admin, "/tasks", deal_id)
    template = {
        "code": f"matrix_{tag}",
        "name": "Matrix",
        "steps": [{"code": "me", "name": "Me", "approvers": [{"kind": "user", "user_id": "1"}]}],
    }
    me = await _made(await admin.get("/me"))
    template["steps"][0]["approvers"][0]["user_id"] = str(me["id"])
    await _made(await admin.post("/approval-templates", json=template))
    ids["approval_template"] = template["code"]
    ids["contract_type"] = f"matrix_{tag}"
    await _made(
        await admin.put(
            f"/contract-types/{ids['contract_type']}",
            json={"name": "Matrix", "template_code": template["code"]},
        )
    )
    contract = await _made(
        await admin.post(
            "/contracts",
            json={
                "deal_id": int(deal_id),
                "type_code": ids["contract_type"],
                "counterparty_kind": "client",
                "counterparty_name": f"{mark} LLC",
                "title": f"{mark} contract",
            },
        )
    )
    ids["contract"] = str(contract["id"])
    await _made(
        await admin.post(
            f"/deals/{deal_id}/processes",
            json={"process": "contract_approval", "params": {"contract_id": contract["id"]}},
        )
    )
    ids["approval"] = await _first(admin, "/approvals", deal_id)
    invoice = {"deal_id": int(deal_id), "counterparty": f"{mark} client", "currency": "RUB"}
    ids["invoice"] = str((await _made(await admin.post("/invoices", json=invoice)))["id"])
    spend = {
        "deal_id": int(deal_id),
        "purpose": f"{mark} spend",
        "amount": "10.00",
        "counterparty": "S",
    }
    spend["due_date"] = "2026-12-20"
    for kind, path in (("payment_request", "/payment-requests"), ("expense", "/expenses")):
        ids[kind] = str((await _made(await admin.post(path, json=spend)))["id"])
    upload = await admin.post(
        "/files",
        data={"deal_id": deal_id},
        files={"file": (f"{mark}.pdf", b"%PDF-1.4 matrix", "application/pdf")},
    )
    ids["file"] = str((await _made(upload))["id"])
    token = await _made(await admin.post("/api-tokens", json={"name": f"{mark} token"}))
    ids["api_token"] = str(token["id"])
    ids.update(await _build_crm(admin, tag, mark, deal_id))
    due = {"kind": "call", "due_at": "2026-12-31T09:00:00Z", "subject": f"{mark} call"}
    ids["activity"] = str(
        (await _made(await admin.post(f"/deals/{deal_id}/activities", json=due)))["id"]
    )
    plan = {"deal_id": int(deal_id), "frequencies": {"calls": {"count": 1, "per": "month"}}}
    ids["reminder_plan"] = str((await _made(await admin.post("/reminder-plans", json=plan)))["id"])
    return ids


async def _build_crm(admin: httpx.AsyncClient, tag: str, mark: str, deal_id: str) -> dict[str, str]:
    """A company, its contact, a lead of both in a lead funnel (the deal linked to them), an
    exclusion and a custom field of contacts."""
    ids: dict[str, str] = {}
    company = await _made(await admin.post("/companies", json={"name": f"{mark} company"}))
    ids["company"] = str(company["id"])
    contact = {"name": f"{mark} contact", "emails": [f"c-{tag}@matrix.test"], "company_id": 0}
    contact["company_id"] = company["id"]
    ids["contact"] = str((await _made(await admin.post("/contacts", json=contact)))["id"])
    other = {"name": f"{mark} other", "phones": [f"+7 900 {int(tag, 16) % 10**7:07d}"]}
    ids["other_contact"] = str((await _made(await admin.post("/contacts", json=other)))["id"])
    stages = [
        {"name": "New", "semantic": "in_progress"},
        {"name": "Next", "semantic": "in_progress"},
        {"name": "Done", "semantic": "won"},
    ]
    body = {"name": f"Funnel {tag}", "kind": "lead", "stages": stages}
    funnel = await _made(await admin.post("/pipelines", json=body))
    ids["lead_funnel"] = str(funnel["id"])
    ids["lead_stage"] = str(funnel["stages"][1]["id"])
    lead = {"pipeline_id": funnel["id"], "title": f"{mark} lead", "company_id": company["id"]}
    lead["contact_id"] = int(ids["contact"])
    ids["lead"] = str((await _made(await admin.post("/leads", json=lead)))["id"])
    run = {"process": "lead_proposal", "params": {}}
    started = await admin.post(f"/leads/{ids['lead']}/processes", json=run)
    ids["lead_process_run"] = str((await _made(started))["workflow_id"])
    parties = {"contact_ids": [int(ids["contact"])], "company_id": company["id"]}
    await _made(await admin.post(f"/deals/{deal_id}/contacts", json=parties))
    exclusion = {"kind": "email", "value": f"spam-{tag}@matrix.test"}
    ids["exclusion"] = str((await _made(await admin.post("/exclusions", json=exclusion)))["id"])
    field = {"code": f"m_{tag}", "name": "Matrix", "type": "string"}
    await _made(await admin.post("/contact-fields", json=field))
    ids["record_fields"] = "contact"
    return ids


@pytest.fixture(scope="module")
async def world(matrix_stack: Stack) -> AsyncIterator[World]:
    base = matrix_stack.gateway_url
    tag = uuid.uuid4().hex[:6]
    mark = f"hidden{tag}"
    admin = await login(base, matrix_stack.admin_email, matrix_stack.admin_password)
    spec = (await admin.get(base + "/openapi.json")).json()
    ids = await _build(admin, base, tag, mark)
    others = await _made(await admin.post("/departments", json={"name": f"Outsiders {tag}"}))
    outsider = await _user(admin, base, "manager", others["id"])
    role = f"viewer_{tag}"
    await _made(await admin.put(f"/roles/{role}", json={"visibility": "all", "permissions": []}))
    viewer = await _user(admin, base, role, others["id"])
    admin_id = (await admin.get("/me")).json()["id"]
    yield World(spec, ids, mark, admin, admin_id, outsider, viewer)
    for client in (admin, outsider, viewer):
        await client.aclose()


async def _call(
    world: World, client: httpx.AsyncClient, op: Operation, *, names_records: bool
) -> httpx.Response:
    inputs = Inputs(world.spec, world.ids, str(world.admin_id))
    url = op.url(world.ids)
    headers = {}
    if op.method in ("PATCH", "PUT", "DELETE"):  # the admin's current version, when it has one
        current = await world.admin.get(url)
        if "etag" in current.headers:
            headers["If-Match"] = current.headers["etag"]
    params = inputs.query(op, everything=names_records)
    body = inputs.body(op)
    if op.form:
        files = {"file": ("x.pdf", b"%PDF-1.4", "application/pdf")}
        form = {k: str(v) for k, v in (body or {}).items() if k != "file"}
        return await client.request(
            op.method, url, params=params, data=form, files=files, headers=headers
        )
    if body is None:
        return await client.request(op.method, url, params=params, headers=headers)
    return await client.request(op.method, url, params=params, json=body, headers=headers)


def _explain(op: Operation, resp: httpx.Response, want: str) -> str:
    return f"{op.method} {op.path}: {resp.status_code}, want {want}: {resp.text[:200]}"


def _names_private(op: Operation, inputs: Inputs) -> bool:
    body = inputs.body(op)
    query = inputs.query(op, everything=False)
    named = set(body) if isinstance(body, dict) else set()
    return any(FIELD_KINDS.get(k) in PRIVATE for k in named | set(query))


def _refused_field(resp: httpx.Response) -> bool:
    """A 422 naming the field that names a record the caller does not see (it answers so
    for one that does not exist too: `company_id: is not a company you see`)."""
    if resp.status_code != 422:
        return False
    fields = {e.get("field") for e in resp.json().get("errors", [])}
    return bool(fields) and all(FIELD_KINDS.get(str(f)) in PRIVATE for f in fields)


async def test_an_outsider_sees_and_changes_nothing_of_others(world: World) -> None:
    wrong: list[str] = []
    inputs = Inputs(world.spec, world.ids, str(world.admin_id))
    swept = 0
    for op in operations(world.spec):
        kind = op.kind
        if op.open or (kind in SHARED and op.mutating):
            continue
        resp = await _call(world, world.outsider, op, names_records=True)
        swept += 1
        if resp.status_code >= 500:
            wrong.append(_explain(op, resp, "no 5xx"))
        elif kind in PRIVATE:
            if resp.status_code != 404:
                wrong.append(_explain(op, resp, f"404 (someone else's {kind})"))
            elif op.method == "GET":  # the 404 is the outsider's: the admin reads it
                mine = await _call(world, world.admin, op, names_records=False)
                if mine.status_code != 200:
                    wrong.append(_explain(op, mine, "200 for the admin who made it"))
        elif kind is not None and op.mutating:
            if resp.status_code != 403:
                wrong.append(_explain(op, resp, f"403 (a change of a {kind})"))
        elif op.mutating and _names_private(op, inputs):
            if resp.status_code != 404 and not _refused_field(resp):
                wrong.append(_explain(op, resp, "404 (it names a record the caller does not see)"))
        elif op.method == "GET" and resp.status_code == 200:
            leaked = world.mark in resp.text
            hidden = world.ids.get(op.collection_kind or "", "")
            if op.collection_kind in PRIVATE and hidden in ids_in(resp.json()):
                leaked = True
            if leaked:
                wrong.append(f"GET {op.path} ({resp.url.query.decode()}) shows a hidden record")
    assert swept > 40, f"only {swept} operations swept"
    # the leak check sees a record when it is there: the admin's own list shows it
    mine = await world.admin.get("/deals", params={"responsible_id": world.admin_id})
    assert world.mark in mine.text and world.ids["deal"] in ids_in(mine.json())
    assert not wrong, "\n".join(wrong)


async def test_a_role_without_permissions_changes_nothing(world: World) -> None:
    wrong: list[str] = []
    for op in operations(world.spec):
        if not op.mutating or op.open:
            continue
        seen = 200
        if op.kind in OWNED_ONLY:
            seen = 404
        elif op.kind is not None:
            read = Operation("GET", op.record_path, {})
            seen = (await world.viewer.get(read.url(world.ids))).status_code
        resp = await _call(world, world.viewer, op, names_records=False)
        want = 404 if seen == 404 else 403
        if resp.status_code != want:
            wrong.append(_explain(op, resp, str(want)))
    assert not wrong, "\n".join(wrong)
