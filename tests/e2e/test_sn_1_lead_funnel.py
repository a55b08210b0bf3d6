"""SN-1 (the parts that need no automation rules): a lead funnel Collect → Discuss →
Interesting → closed as Other / Spam / Save contact. Leaving Collect needs "Source" and "May
we name the source"; in Interesting the deal is made in the pipeline "Has spec?" chooses
(here through POST /leads/{id}/convert; the `convert_lead` rule action and the Discuss task
and 7-day move come with the automation rules); Spam excludes the contact, and their next
mail creates nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from deploy.local.stack import Stack
from tests.e2e.conftest import login, problem
from tests.e2e.test_deals_flow import create_user
from tests.e2e.test_sn_7_email_intake import mail, send


async def post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = await client.post(path, json=body)
    assert resp.status_code in (200, 201), resp.text
    return dict(resp.json())


async def sn1_funnel(admin: httpx.AsyncClient) -> dict[str, Any]:
    funnel = await post(
        admin,
        "/pipelines",
        {
            "name": f"SN-1 leads {uuid.uuid4().hex[:6]}",
            "kind": "lead",
            "stages": [
                {"name": "Collect"},
                {"name": "Discuss"},
                {"name": "Interesting", "semantic": "won"},
                {"name": "Other", "semantic": "lost"},
                {"name": "Spam", "semantic": "spam"},
                {"name": "Save contact", "semantic": "won"},
            ],
        },
    )
    stage = {s["name"]: s["id"] for s in funnel["stages"]}
    past_collect = [stage["Discuss"], stage["Interesting"], stage["Save contact"]]
    for code, name, kind, on in (
        ("source", "Source", "string", past_collect),
        ("may_name_source", "May we name the source", "bool", past_collect),
        ("has_spec", "Has spec?", "bool", [stage["Interesting"]]),
    ):
        await post(
            admin,
            f"/pipelines/{funnel['id']}/fields",
            {"code": code, "name": name, "type": kind, "required_on_stages": on},
        )
    return {"id": funnel["id"], "stage": stage}


async def deal_pipeline(admin: httpx.AsyncClient, name: str) -> dict[str, Any]:
    pipeline = await post(
        admin,
        "/pipelines",
        {
            "name": f"{name} {uuid.uuid4().hex[:6]}",
            "stages": [{"name": "New"}, {"name": "Done", "semantic": "won"}],
        },
    )
    await post(
        admin,
        f"/pipelines/{pipeline['id']}/fields",
        {"code": "source", "name": "Source", "type": "string"},
    )
    return pipeline


async def test_sn_1_lead_funnel(stack: Stack, admin: httpx.AsyncClient) -> None:
    funnel = await sn1_funnel(admin)
    stage = funnel["stage"]
    project_manager = await deal_pipeline(admin, "Project manager")
    acquisition = await deal_pipeline(admin, "Client acquisition")
    manager = await create_user(admin, "manager")
    other = await create_user(admin, "manager")

    async def lead(title: str, contact: dict[str, Any]) -> dict[str, Any]:
        return await post(
            admin,
            "/leads",
            {
                "pipeline_id": funnel["id"],
                "title": title,
                "contact_id": contact["id"],
                "responsible_id": manager["id"],
                "fields": {},
            },
        )

    async def contact(name: str) -> dict[str, Any]:
        tag = uuid.uuid4().hex[:6]
        return await post(
            admin,
            "/contacts",
            {
                "name": name,
                "emails": [f"{tag}@client.example"],
                "phones": [f"8 9{uuid.uuid4().int % 10**9:09d}"],
                "responsible_id": manager["id"],
            },
        )

    # Leaving Collect needs both source fields: every missing one is named.
    with_spec = await lead("Conference stands", await contact("Olga"))
    assert with_spec["stage_id"] == stage["Collect"]
    refused = await admin.post(
        f"/leads/{with_spec['id']}/move", json={"stage_id": stage["Discuss"]}
    )
    assert refused.status_code == 422
    assert sorted(e["field"] for e in problem(refused)["errors"]) == [
        "fields.may_name_source",
        "fields.source",
    ]
    patched = await admin.patch(
        f"/leads/{with_spec['id']}",
        json={"fields": {"source": "exhibition", "may_name_source": True}},
    )
    assert patched.status_code == 200, patched.text
    await post(admin, f"/leads/{with_spec['id']}/move", {"stage_id": stage["Discuss"]})

    # Interesting needs "Has spec?"; then the deal goes to the pipeline it chooses.
    refused = await admin.post(
        f"/leads/{with_spec['id']}/move", json={"stage_id": stage["Interesting"]}
    )
    assert [e["field"] for e in problem(refused)["errors"]] == ["fields.has_spec"]
    await admin.patch(f"/leads/{with_spec['id']}", json={"fields": {"has_spec": True}})
    await post(admin, f"/leads/{with_spec['id']}/move", {"stage_id": stage["Interesting"]})

    without_spec = await lead("Badges", await contact("Pavel"))
    await admin.patch(
        f"/leads/{without_spec['id']}",
        json={"fields": {"source": "site", "may_name_source": False, "has_spec": False}},
    )
    await post(admin, f"/leads/{without_spec['id']}/move", {"stage_id": stage["Interesting"]})

    for current, expected in ((with_spec, project_manager), (without_spec, acquisition)):
        fields = (await admin.get(f"/leads/{current['id']}")).json()["fields"]
        chosen = project_manager if fields["has_spec"] else acquisition  # what the rule will do
        converted = await admin.post(
            f"/leads/{current['id']}/convert", json={"pipeline_id": chosen["id"]}
        )
        assert converted.status_code == 201, converted.text
        body = converted.json()
        assert body["lead"]["stage_id"] == stage["Interesting"]  # stays there (7 days: rules)
        assert body["lead"]["deal_id"] == body["deal_id"]
        deal = (await admin.get(f"/deals/{body['deal_id']}")).json()
        assert (deal["pipeline_id"], deal["title"], deal["responsible_id"]) == (
            expected["id"],
            current["title"],
            manager["id"],
        )
        assert deal["fields"] == {"source": fields["source"]}  # carried over by code
        links = (await admin.get(f"/deals/{body['deal_id']}/contacts")).json()
        assert (links["contact_ids"], links["lead_id"]) == ([current["contact_id"]], current["id"])
        again = await admin.post(f"/leads/{current['id']}/convert", json={})
        assert again.status_code == 409

    # Closed as Other straight from Collect (closing needs no source).
    lost = await lead("Just asking", await contact("Ivan"))
    closed = await post(admin, f"/leads/{lost['id']}/move", {"stage_id": stage["Other"]})
    assert closed["stage_semantic"] == "lost"

    # Spam: the contact's e-mail and phone are excluded; their next mail creates nothing.
    spammer = await contact("Promo bot")
    spam = await lead("Cheap followers", spammer)
    marked = await post(admin, f"/leads/{spam['id']}/move", {"stage_id": stage["Spam"]})
    assert marked["stage_semantic"] == "spam"
    excluded = (await admin.get("/exclusions", params={"limit": 200})).json()["items"]
    values = {(e["kind"], e["value"]) for e in excluded if e["lead_id"] == spam["id"]}
    assert values == {("email", spammer["emails"][0]), ("phone", spammer["phones"][0])}
    await admin.put("/intake/settings", json={"pipeline_id": funnel["id"]})
    before = (await admin.get("/leads", params={"pipeline_id": funnel["id"]})).json()["items"]
    await send(stack, mail(spammer["emails"][0], "More followers", "Buy"))
    after = (await admin.get("/leads", params={"pipeline_id": funnel["id"]})).json()["items"]
    assert len(after) == len(before)

    # SN-8 for leads: the manager sees their own, another manager none of them.
    me = await login_as(stack, manager)
    theirs = await login_as(stack, other)
    try:
        mine = (await me.get("/leads", params={"pipeline_id": funnel["id"]})).json()["items"]
        assert len(mine) == len(after)
        assert (await theirs.get("/leads", params={"pipeline_id": funnel["id"]})).json()[
            "items"
        ] == []
        assert (await theirs.get(f"/leads/{spam['id']}")).status_code == 404
        assert (await theirs.get(f"/contacts/{spammer['id']}")).status_code == 404
    finally:
        await me.aclose()
        await theirs.aclose()


async def login_as(stack: Stack, user: dict[str, Any]) -> httpx.AsyncClient:
    return await login(stack.gateway_url, user["email"], user["password"])
