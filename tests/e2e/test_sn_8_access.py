"""SN-8 / SM-9 through the gateway: the org structure built by the API, and who sees and
does what. The matrix runs every role against every deal endpoint with a deal the caller
owns, a colleague's in the same department and one in another department, and checks the
exact status and that no list, search or count shows a record it should not."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from deploy.local.stack import Stack
from tests.e2e.conftest import login, problem

PASSWORD = "correct horse battery"


@dataclass
class Person:
    role: str
    id: int
    email: str
    client: httpx.AsyncClient


@dataclass
class Org:
    people: dict[str, Person]  # by name: admin, ceo, head, m1, m2, other, accountant, designer
    deals: dict[str, dict[str, Any]]  # by owner name: m1, m2, other, designer
    pipeline: dict[str, Any]
    tag: str


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = await client.post(path, json=body)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


@pytest.fixture(scope="module")
async def org(stack: Stack) -> AsyncIterator[Org]:
    tag = uuid.uuid4().hex[:6]
    admin = await login(stack.gateway_url, stack.admin_email, stack.admin_password)
    sales = await _post(admin, "/departments", {"name": f"Sales {tag}"})
    other = await _post(admin, "/departments", {"name": f"Purchasing {tag}"})
    specs = {
        "ceo": ("ceo", None),
        "head": ("head_of_sales", sales["id"]),
        "m1": ("manager", sales["id"]),
        "m2": ("manager", sales["id"]),
        "other": ("manager", other["id"]),
        "accountant": ("accountant", None),
        "designer": ("designer", sales["id"]),
    }
    me = (await admin.get("/me")).json()
    people = {"admin": Person("admin", me["id"], me["email"], admin)}
    for name, (role, department) in specs.items():
        email = f"{name}-{tag}@sn8.test"
        body = {"email": email, "name": name, "password": PASSWORD, "roles": [role]}
        if department:
            body["department_id"] = department
        user = await _post(admin, "/users", body)
        client = await login(stack.gateway_url, email, PASSWORD)
        people[name] = Person(role, user["id"], email, client)
    resp = await admin.patch(f"/departments/{sales['id']}", json={"head_id": people["head"].id})
    assert resp.status_code == 200, resp.text
    pipeline = await _post(
        admin,
        "/pipelines",
        {
            "name": f"SN-8 {tag}",
            "stages": [
                {"name": "New", "semantic": "in_progress"},
                {"name": "Next", "semantic": "in_progress"},
                {"name": "Won", "semantic": "won"},
            ],
        },
    )
    deals = {}
    for owner in ("m1", "m2", "other", "designer"):
        body = {
            "pipeline_id": pipeline["id"],
            "title": f"{owner} deal {tag}",
            "responsible_id": people[owner].id,
        }
        deals[owner] = await _post(admin, "/deals", body)
    yield Org(people, deals, pipeline, tag)
    for person in people.values():
        await person.client.aclose()


# who sees whose deal: the caller's own, a colleague's in the same department (m2 for the
# Sales people), one in another department ("other")
SEES = {
    "admin": {"m1", "m2", "other", "designer"},
    "ceo": {"m1", "m2", "other", "designer"},
    "accountant": {"m1", "m2", "other", "designer"},
    "head": {"m1", "m2", "designer"},
    "m1": {"m1"},
    "m2": {"m2"},
    "other": {"other"},
    "designer": {"designer"},
}
EDITS = {"admin", "ceo", "head", "m1", "m2", "other"}  # roles with deals.edit / deals.move


async def test_sn_8_permission_matrix(org: Org) -> None:
    wrong: list[str] = []

    def expect(who: str, what: str, got: httpx.Response, status: int) -> None:
        if got.status_code != status:
            wrong.append(f"{who} {what}: {got.status_code} (want {status}) {got.text[:120]}")
        elif status >= 400:
            problem(got)

    for who, person in org.people.items():
        c = person.client
        for owner, deal in org.deals.items():
            visible = owner in SEES[who]
            read = 200 if visible else 404
            path = f"/deals/{deal['id']}"
            expect(who, f"GET {owner}'s deal", await c.get(path), read)
            expect(who, f"timeline of {owner}'s", await c.get(path + "/timeline"), read)
            expect(who, f"history of {owner}'s", await c.get(path + "/stage-history"), read)
            expect(who, f"processes of {owner}'s", await c.get(path + "/processes"), read)
            write = (200 if who in EDITS else 403) if visible else 404
            current = await org.people["admin"].client.get(path)
            version = current.headers["ETag"]
            patched = await c.patch(
                path, json={"title": f"{owner} deal {org.tag}"}, headers={"If-Match": version}
            )
            expect(who, f"PATCH {owner}'s deal", patched, write)
            first, second = (s["id"] for s in org.pipeline["stages"][:2])
            stage = second if current.json()["stage_id"] == first else first
            moved = await c.post(path + "/move", json={"stage_id": stage})
            expect(who, f"move {owner}'s deal", moved, write)

        listed = await c.get("/deals", params={"pipeline_id": org.pipeline["id"], "limit": 200})
        expect(who, "list", listed, 200)
        titles = {d["title"] for d in listed.json()["items"]}
        if titles != {f"{owner} deal {org.tag}" for owner in SEES[who]}:
            wrong.append(f"{who} lists {sorted(titles)}")
        for owner in org.deals:
            searched = await c.get("/deals", params={"q": f"{owner} deal {org.tag}"})
            found = {d["title"] for d in searched.json()["items"]}
            if (owner in SEES[who]) != bool(found):
                wrong.append(f"{who} searching {owner}'s deal found {sorted(found)}")
        filtered = await c.get("/deals", params={"responsible_id": org.people["other"].id})
        if who not in ("admin", "ceo", "accountant", "other") and filtered.json()["items"]:
            wrong.append(f"{who} filtering by another department's manager saw deals")

    assert not wrong, "\n".join(wrong)


async def test_sn_8_mass_assignment_is_refused_not_ignored(org: Org) -> None:
    m1 = org.people["m1"].client
    pipeline_id = org.pipeline["id"]

    # a manager's deal without responsible_id belongs to the manager
    mine = await _post(m1, "/deals", {"pipeline_id": pipeline_id, "title": "mine"})
    assert mine["responsible_id"] == org.people["m1"].id

    # making someone else responsible needs deals.reassign, which a manager lacks
    given = await m1.post(
        "/deals",
        json={"pipeline_id": pipeline_id, "title": "x", "responsible_id": org.people["m2"].id},
    )
    assert given.status_code == 403, given.text
    assert "responsible" in problem(given)["detail"]
    etag = (await m1.get(f"/deals/{mine['id']}")).headers["ETag"]
    handed = await m1.patch(
        f"/deals/{mine['id']}",
        json={"responsible_id": org.people["m2"].id},
        headers={"If-Match": etag},
    )
    assert handed.status_code == 403, handed.text
    assert (await m1.get(f"/deals/{mine['id']}")).json()["responsible_id"] == org.people["m1"].id

    # unknown fields are refused with their names
    sneaky = await m1.post(
        "/deals", json={"pipeline_id": pipeline_id, "title": "x", "version": 99, "id": 1}
    )
    assert sneaky.status_code == 422
    assert {e["field"] for e in problem(sneaky)["errors"]} == {"version", "id"}

    # the head of the department may hand a deal to a manager
    head = org.people["head"].client
    handed_by_head = await head.post(
        "/deals",
        json={"pipeline_id": pipeline_id, "title": "for m2", "responsible_id": org.people["m2"].id},
    )
    assert handed_by_head.status_code == 201, handed_by_head.text


async def test_sn_8_only_admins_change_configuration(org: Org) -> None:
    tag = org.tag
    attempts = [
        ("post", "/departments", {"name": f"x {tag}"}),
        ("post", "/users", {"email": f"x{tag}@x.test", "name": "x", "password": PASSWORD}),
        ("patch", f"/users/{org.people['m1'].id}", {"roles": ["admin"]}),
        ("put", "/roles/sneaky", {"visibility": "all", "permissions": ["org.admin"]}),
        ("post", "/pipelines", {"name": "x", "stages": [{"name": "a"}]}),
        ("post", f"/pipelines/{org.pipeline['id']}/fields", {"code": "x", "type": "string"}),
        ("post", "/lists", {"code": f"l{tag}", "name": "x", "columns": []}),
    ]
    for name in ("ceo", "head", "m1", "accountant", "designer"):
        client = org.people[name].client
        for method, path, body in attempts:
            resp = await client.request(method, path, json=body)
            assert resp.status_code == 403, f"{name} {method} {path}: {resp.text}"
            problem(resp)
        audit = await client.get("/audit")
        assert audit.status_code == 403, f"{name} read the audit log"
    me = await org.people["m1"].client.get("/me")
    assert me.json()["roles"] == ["manager"]
    assert "org.admin" not in me.json()["permissions"]


async def test_sm_9_org_structure_and_audit(org: Org, stack: Stack) -> None:
    admin = org.people["admin"].client
    departments = {d["id"]: d for d in (await admin.get("/departments")).json()}
    sales = next(d for d in departments.values() if d["name"] == f"Sales {org.tag}")
    assert sales["head_id"] == org.people["head"].id
    listed = await admin.get(
        "/users", params={"role": "manager", "department_id": sales["id"], "limit": 10}
    )
    assert {u["id"] for u in listed.json()["items"]} == {
        org.people["m1"].id,
        org.people["m2"].id,
    }

    # a permission change takes effect at once and is audited with before and after
    designer = org.people["designer"]
    resp = await admin.patch(f"/users/{designer.id}", json={"roles": ["designer", "manager"]})
    assert resp.status_code == 200, resp.text
    entries = (
        await admin.get("/audit", params={"subject_type": "user", "subject_id": designer.id})
    ).json()["items"]
    change = next(e for e in entries if e["action"] == "users.permissions")
    assert change["before"]["roles"] == ["designer"]
    assert change["after"]["roles"] == ["designer", "manager"]
    assert change["actor_id"] == org.people["admin"].id

    signed_in = (await admin.get("/audit", params={"action": "auth."})).json()["items"]
    assert any(
        e["action"] == "auth.sign_in" and e["actor_id"] == org.people["m1"].id for e in signed_in
    )
    created = (await admin.get("/audit", params={"action": "departments.create"})).json()
    assert any(e["after"]["name"] == f"Sales {org.tag}" for e in created["items"])
