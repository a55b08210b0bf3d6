"""Contacts, companies, leads and exclusions through the gateway: the minimal shapes of the
issue, a duplicate's 409 with the existing id, search by normalised e-mail and phone,
merge, a deal's contacts, conversion into the first pipeline by default, bad input."""

from __future__ import annotations

import uuid

import httpx

from deploy.local.stack import Stack
from tests.e2e.conftest import problem


async def test_contacts_companies_and_a_lead_converted_by_default(
    stack: Stack, admin: httpx.AsyncClient
) -> None:
    tag = uuid.uuid4().hex[:6]
    company = await admin.post(
        "/companies", json={"name": f"Acme {tag}", "registration_ids": {"inn": f"77{tag}"}}
    )
    assert company.status_code == 201, company.text
    company_id = company.json()["id"]
    phone = f"8 (9{uuid.uuid4().int % 100:02d}) {uuid.uuid4().int % 10**7:07d}"
    created = await admin.post(
        "/contacts",
        json={
            "name": "Anna",
            "emails": [f" Anna.{tag}@Example.COM "],
            "phones": [phone],
            "company_id": company_id,
        },
    )
    assert created.status_code == 201, created.text
    anna = created.json()
    assert anna["emails"] == [f"anna.{tag}@example.com"] and anna["phones"][0].startswith("+79")

    twin = await admin.post("/contacts", json={"name": "Anna K", "phones": [anna["phones"][0]]})
    assert twin.status_code == 409
    body = problem(twin)
    assert body["existing_id"] == anna["id"]
    assert [e["field"] for e in body["errors"]] == ["phones[0]"]
    twin = await admin.post(
        "/contacts",
        json={"name": "Anna K", "emails": [f"ak.{tag}@example.com"], "allow_duplicate": True},
    )
    assert twin.status_code == 201

    for q in (f"ANNA.{tag}@example.com", phone.replace("8 (", "+7 (")):
        found = (await admin.get("/contacts", params={"q": q})).json()["items"]
        assert [c["id"] for c in found] == [anna["id"]], q
    by_inn = (await admin.get("/companies", params={"q": f"77{tag}"})).json()["items"]
    assert [c["id"] for c in by_inn] == [company_id]

    merged = await admin.post(
        f"/contacts/{anna['id']}/merge", json={"contact_id": twin.json()["id"]}
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["emails"] == [f"anna.{tag}@example.com", f"ak.{tag}@example.com"]

    funnel = await admin.post(
        "/pipelines",
        json={
            "name": f"Leads {tag}",
            "kind": "lead",
            "stages": [{"name": "New"}, {"name": "Done", "semantic": "won"}],
        },
    )
    assert funnel.status_code == 201, funnel.text
    sales = await admin.post(
        "/pipelines", json={"name": f"Sales {tag}", "stages": [{"name": "New"}]}
    )
    lead = await admin.post(
        "/leads",
        json={
            "pipeline_id": funnel.json()["id"],
            "title": "Pens",
            "contact_id": anna["id"],
            "source": "call",
            "fields": {},
        },
    )
    assert lead.status_code == 201, lead.text
    listed = await admin.get("/leads", params={"pipeline_id": funnel.json()["id"], "q": "pen"})
    assert [x["id"] for x in listed.json()["items"]] == [lead.json()["id"]]
    refused = await admin.post(
        "/deals", json={"pipeline_id": funnel.json()["id"], "title": "not here"}
    )
    assert [e["field"] for e in problem(refused)["errors"]] == ["pipeline_id"]

    converted = await admin.post(
        f"/leads/{lead.json()['id']}/convert", json={"pipeline_id": sales.json()["id"]}
    )
    assert converted.status_code == 201, converted.text
    deal_id = converted.json()["deal_id"]
    deal = (await admin.get(f"/deals/{deal_id}")).json()
    assert (deal["contact_name"], deal["company_name"]) == ("Anna", f"Acme {tag}")
    links = (await admin.get(f"/deals/{deal_id}/contacts")).json()
    assert links == {
        "deal_id": deal_id,
        "contact_ids": [anna["id"]],
        "company_id": company_id,
        "lead_id": lead.json()["id"],
    }
    assert deal["parties"] == links, "the deal's card lists its contacts, company and lead"
    timeline = (await admin.get(f"/leads/{lead.json()['id']}/timeline")).json()["items"]
    assert [e["kind"] for e in timeline] == ["converted", "stage_changed", "created"]


async def test_bad_input_names_the_field_and_stores_nothing(
    stack: Stack, admin: httpx.AsyncClient
) -> None:
    for path, body, field in (
        ("/contacts", {"name": "X", "emails": ["not-mail"]}, "emails[0]"),
        ("/contacts", {"name": "X", "phones": ["12"]}, "phones[0]"),
        ("/exclusions", {"kind": "fax", "value": "1"}, "kind"),
        ("/exclusions", {"kind": "domain", "value": "localhost"}, "value"),
        ("/leads", {"pipeline_id": 999999, "title": "x", "fields": {}}, None),
    ):
        resp = await admin.post(path, json=body)
        assert resp.status_code in (404, 422), (path, resp.text)
        if field is not None:
            assert field in [e["field"] for e in problem(resp)["errors"]], resp.text
    assert (await admin.get("/contacts", params={"q": "not-mail"})).json()["items"] == []


async def test_a_web_form_token_captures_leads_and_may_do_nothing_else(
    stack: Stack, admin: httpx.AsyncClient
) -> None:
    funnel = await admin.post(
        "/pipelines",
        json={"name": f"Forms {uuid.uuid4().hex[:6]}", "kind": "lead", "stages": [{"name": "New"}]},
    )
    token = await admin.post("/api-tokens", json={"name": "site forms", "scopes": ["leads"]})
    assert token.status_code == 201, token.text
    form = httpx.AsyncClient(
        base_url=stack.gateway_url + "/api/v1",
        headers={"Authorization": f"Bearer {token.json()['token']}"},
        timeout=30,
    )
    request = {
        "name": "Oleg",
        "email": f"oleg-{uuid.uuid4().hex[:6]}@x.example",
        "message": "A booth for 2027",
        "pipeline_id": funnel.json()["id"],
    }
    try:
        made = await form.post("/lead-capture", json=request)
        assert made.status_code == 201, made.text
        again = await form.post("/lead-capture", json=request)
        assert (again.status_code, again.json()["lead_id"]) == (200, made.json()["lead_id"])
        bot = await form.post(
            "/lead-capture", json={**request, "email": "b@x.example", "website": "x"}
        )
        assert bot.status_code == 202
        assert (await form.get("/leads")).status_code == 403
    finally:
        await form.aclose()
    listed = (await admin.get("/leads", params={"pipeline_id": funnel.json()["id"]})).json()
    assert [x["id"] for x in listed["items"]] == [made.json()["lead_id"]]


async def test_a_csv_of_contacts_imports_after_a_dry_run_and_updates_when_sent_again(
    stack: Stack, admin: httpx.AsyncClient
) -> None:
    tag = uuid.uuid4().hex[:6]
    mapping = '{"Ref": "external_id", "Full name": "name", "Mail": "emails", "Phone": "phones"}'

    async def send(csv: str, dry_run: bool) -> httpx.Response:
        return await admin.post(
            "/imports",
            data={"kind": "contacts", "mapping": mapping, "dry_run": str(dry_run).lower()},
            files={"file": ("amo.csv", csv.encode("utf-8-sig"), "text/csv")},
        )

    bad = f"Ref;Full name;Mail;Phone\nr1-{tag};Lena;lena-{tag}@x.example;\nr2-{tag};Max;max@;12\n"
    checked = await send(bad, True)
    assert checked.status_code == 200, checked.text
    assert [p["field"] for p in checked.json()["problems"]] == ["rows[3].Mail", "rows[3].Phone"]
    refused = await send(bad, False)
    assert refused.status_code == 422
    assert (await admin.get("/contacts", params={"q": f"lena-{tag}@x.example"})).json()[
        "items"
    ] == []

    good = (
        f"Ref;Full name;Mail;Phone\nr1-{tag};Lena;lena-{tag}@x.example;\n"
        f"r2-{tag};Max;max-{tag}@x.example;8 900 111 22 33\n"
    )
    made = await send(good, False)
    assert made.status_code == 201, made.text
    assert (made.json()["created"], made.json()["updated"]) == (2, 0)
    again = await send(good.replace("Lena", "Elena"), False)
    assert (again.json()["created"], again.json()["updated"]) == (0, 2)
    (lena,) = (await admin.get("/contacts", params={"q": f"lena-{tag}@x.example"})).json()["items"]
    assert lena["name"] == "Elena"
