"""SN-1 Lead funnel, end to end through the gateway against the whole stack, every robot an
automation rule on the lead funnel made over REST.

Collect → Discuss → Interesting → closed as Other / Spam / Save contact. Leaving Collect
needs "Source" and "May we name the source" (`required_to_leave`, every missing one named).
Entering Discuss creates "Discuss lead with management" for the responsible, due in two
business days, closed by itself when the lead moves on. In Interesting a rule converts the
lead into a deal in the pipeline "Has spec?" chooses (yes → Project manager, no → Client
acquisition), and another moves the lead to "Save contact" 7 days later: here the run log
shows that run scheduled a week ahead, and leaving Interesting cancels it (the firing itself
is tested on the time-skipping server: tests/unit/workflows/test_automation_leads.py).
Spam excludes the contact (the spam stage, and a rule's `exclude_contact`), and their next
mail creates nothing. A manager sees their own leads only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually, login, problem
from tests.e2e.test_deals_flow import create_user
from tests.e2e.test_sn_7_email_intake import mail, send

WEEK = 604800


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
    for code, name, kind, extra in (
        ("source", "Source", "string", {"required_to_leave": [stage["Collect"]]}),
        (
            "may_name_source",
            "May we name the source",
            "bool",
            {"required_to_leave": [stage["Collect"]]},
        ),
        ("has_spec", "Has spec?", "bool", {"required_on_stages": [stage["Interesting"]]}),
    ):
        await post(
            admin,
            f"/pipelines/{funnel['id']}/fields",
            {"code": code, "name": name, "type": kind, **extra},
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


def sn1_rules(
    stage: dict[str, int], project_manager: int, acquisition: int
) -> dict[str, dict[str, Any]]:
    return {
        "discuss": {
            "name": "Discuss the lead",
            "trigger": {"event": "enter", "stage_id": stage["Discuss"]},
            "actions": [
                {
                    "type": "create_task",
                    "title": "Discuss lead with management",
                    "assignee": {"kind": "responsible"},
                    "deadline": {"business_days": 2},
                    "close_on_leave": True,
                }
            ],
        },
        "convert": {
            "name": "Make the deal",
            "trigger": {"event": "enter", "stage_id": stage["Interesting"]},
            "actions": [
                {
                    "type": "convert_lead",
                    "pipeline_by_field": {
                        "field": "has_spec",
                        "values": {"yes": project_manager, "no": acquisition},
                    },
                }
            ],
        },
        "save": {
            "name": "Save the contact after a week",
            "trigger": {"event": "enter", "stage_id": stage["Interesting"]},
            "actions": [
                {"type": "move", "stage_id": stage["Save contact"], "delay": {"seconds": WEEK}}
            ],
        },
        "spam": {
            "name": "Exclude spammers",
            "trigger": {"event": "enter", "stage_id": stage["Spam"]},
            "actions": [{"type": "exclude_contact", "reason": "spam (SN-1)"}],
        },
    }


async def lead_runs(client: httpx.AsyncClient, lead_id: int) -> list[dict[str, Any]]:
    resp = await client.get(f"/leads/{lead_id}/automation")
    assert resp.status_code == 200, resp.text
    return list(resp.json())


async def run_of(
    client: httpx.AsyncClient, lead_id: int, rule_id: int, status: str
) -> dict[str, Any]:
    """The lead's run of the rule once it has the status."""

    async def probe() -> dict[str, Any] | None:
        for run in await lead_runs(client, lead_id):
            if run["rule_id"] == str(rule_id) and run["status"] == status:
                return run
        return None

    return await eventually(probe, timeout=30, what=f"rule {rule_id} {status} on lead {lead_id}")


async def test_sn_1_lead_funnel(stack: Stack, admin: httpx.AsyncClient) -> None:
    funnel = await sn1_funnel(admin)
    stage = funnel["stage"]
    project_manager = await deal_pipeline(admin, "Project manager")
    acquisition = await deal_pipeline(admin, "Client acquisition")
    manager = await create_user(admin, "manager")
    other = await create_user(admin, "manager")
    me = await login_as(stack, manager)
    theirs = await login_as(stack, other)
    try:
        await _sn_1(stack, admin, me, theirs, funnel, stage, project_manager, acquisition, manager)
    finally:
        await me.aclose()
        await theirs.aclose()


async def _sn_1(
    stack: Stack,
    admin: httpx.AsyncClient,
    me: httpx.AsyncClient,
    theirs: httpx.AsyncClient,
    funnel: dict[str, Any],
    stage: dict[str, int],
    project_manager: dict[str, Any],
    acquisition: dict[str, Any],
    manager: dict[str, Any],
) -> None:
    rules_path = f"/pipelines/{funnel['id']}/rules"
    rules = sn1_rules(stage, project_manager["id"], acquisition["id"])

    # A rule's actions are checked when saved: a lead funnel is no pipeline to convert into,
    # a deal pipeline takes no lead actions.
    chooser = {"field": "has_spec", "values": {"yes": funnel["id"], "no": acquisition["id"]}}
    wrong = {"type": "convert_lead", "pipeline_by_field": chooser}
    resp = await admin.post(rules_path, json={**rules["convert"], "actions": [wrong]})
    assert resp.status_code == 422, resp.text
    assert [e["field"] for e in problem(resp)["errors"]] == [
        "actions[0].pipeline_by_field.values.yes"
    ]
    resp = await admin.post(
        f"/pipelines/{acquisition['id']}/rules",
        json={**rules["spam"], "trigger": {"event": "created"}},
    )
    assert resp.status_code == 422
    assert [e["field"] for e in problem(resp)["errors"]] == ["actions[0].type"]
    made = {key: (await post(admin, rules_path, rule))["id"] for key, rule in rules.items()}

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

    async def lead(title: str, person: dict[str, Any], **fields: Any) -> dict[str, Any]:
        return await post(
            admin,
            "/leads",
            {
                "pipeline_id": funnel["id"],
                "title": title,
                "contact_id": person["id"],
                "responsible_id": manager["id"],
                "fields": fields,
            },
        )

    async def move(lead_id: int, name: str) -> dict[str, Any]:
        return await post(admin, f"/leads/{lead_id}/move", {"stage_id": stage[name]})

    async def get_lead(lead_id: int) -> dict[str, Any]:
        return dict((await admin.get(f"/leads/{lead_id}")).json())

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

    # Discuss: the task for the responsible, due in two business days.
    moved_at = datetime.now(UTC)
    await move(with_spec["id"], "Discuss")
    discuss = await run_of(me, with_spec["id"], made["discuss"], "waiting_leave")
    assert discuss["trigger"] == 'enter "Discuss"' and "deal_id" not in discuss
    assert discuss["workflow_id"].startswith(f"lead-{with_spec['id']}/automation/")
    ((step,),) = [discuss["steps"]]
    task = (await me.get(f"/tasks/{step['task_id']}")).json()
    assert (task["title"], task["assignee_id"], task["status"]) == (
        "Discuss lead with management",
        manager["id"],
        "open",
    )
    deadline = datetime.fromisoformat(task["deadline"])
    assert moved_at + timedelta(days=2) - timedelta(hours=1) < deadline
    assert deadline < moved_at + timedelta(days=7)  # two working days, a weekend at most

    # Interesting needs "Has spec?"; the deal goes to the pipeline it chooses; the task closes.
    refused = await admin.post(
        f"/leads/{with_spec['id']}/move", json={"stage_id": stage["Interesting"]}
    )
    assert [e["field"] for e in problem(refused)["errors"]] == ["fields.has_spec"]
    await admin.patch(f"/leads/{with_spec['id']}", json={"fields": {"has_spec": True}})
    entered = datetime.now(UTC)
    await move(with_spec["id"], "Interesting")

    async def closed() -> dict[str, Any] | None:
        got = (await me.get(f"/tasks/{task['id']}")).json()
        return got if got["status"] == "cancelled" else None

    await eventually(closed, timeout=30, what="the Discuss task closed on leaving")
    await run_of(me, with_spec["id"], made["discuss"], "done")

    without_spec = await lead(
        "Badges", await contact("Pavel"), source="site", may_name_source=False, has_spec=False
    )
    await move(without_spec["id"], "Interesting")  # straight from Collect: the fields are set

    for current, expected in ((with_spec, project_manager), (without_spec, acquisition)):
        converted = await run_of(me, current["id"], made["convert"], "done")
        ((step,),) = [converted["steps"]]
        now = await get_lead(current["id"])
        assert now["deal_id"] == int(step["deal_id"]) and now["stage_id"] == stage["Interesting"]
        deal = (await admin.get(f"/deals/{now['deal_id']}")).json()
        assert (deal["pipeline_id"], deal["title"], deal["responsible_id"]) == (
            expected["id"],
            current["title"],
            manager["id"],
        )
        assert deal["fields"] == {"source": now["fields"]["source"]}  # carried over by code
        links = (await admin.get(f"/deals/{now['deal_id']}/contacts")).json()
        assert (links["contact_ids"], links["lead_id"]) == ([current["contact_id"]], current["id"])

        # The move to "Save contact" waits a week, to the second, in the run log.
        save = await run_of(me, current["id"], made["save"], "scheduled")
        due = datetime.fromisoformat(save["actions"][0]["due_at"])
        assert entered + timedelta(seconds=WEEK) - timedelta(seconds=1) <= due
        assert due <= datetime.now(UTC) + timedelta(seconds=WEEK)

    # Closed as Other before the week is out: the delayed move is cancelled.
    await move(with_spec["id"], "Other")
    cancelled = await run_of(me, with_spec["id"], made["save"], "cancelled")
    assert cancelled["reason"] == "cancelled: the lead left the stage"
    assert [(s["type"], s["status"]) for s in cancelled["steps"]] == [("move", "cancelled")]
    assert (await get_lead(with_spec["id"]))["stage_id"] == stage["Other"]
    assert (await get_lead(without_spec["id"]))["stage_id"] == stage["Interesting"]

    # Spam: the contact's e-mail and phone are excluded (the stage does it in the same
    # transaction, the rule's exclude_contact finds them there); their next mail makes nothing.
    spammer = await contact("Promo bot")
    spam = await lead("Cheap followers", spammer, source="site", may_name_source=False)
    marked = await move(spam["id"], "Spam")
    assert marked["stage_semantic"] == "spam"
    excluded = (await admin.get("/exclusions", params={"limit": 200})).json()["items"]
    mine = {(e["kind"], e["value"]): e["id"] for e in excluded if e["lead_id"] == spam["id"]}
    assert set(mine) == {("email", spammer["emails"][0]), ("phone", spammer["phones"][0])}
    by_rule = await run_of(me, spam["id"], made["spam"], "done")
    ((step,),) = [by_rule["steps"]]
    assert step["type"] == "exclude_contact" and sorted(map(int, step["exclusion_ids"])) == sorted(
        mine.values()
    )
    await admin.put("/intake/settings", json={"pipeline_id": funnel["id"]})
    before = (await admin.get("/leads", params={"pipeline_id": funnel["id"]})).json()["items"]
    await send(stack, mail(spammer["emails"][0], "More followers", "Buy"))
    after = (await admin.get("/leads", params={"pipeline_id": funnel["id"]})).json()["items"]
    assert len(after) == len(before)

    # SN-8 for leads: the manager sees their own, another manager none of them, nor their
    # automation.
    listed = (await me.get("/leads", params={"pipeline_id": funnel["id"]})).json()["items"]
    assert len(listed) == len(after)
    assert (await theirs.get("/leads", params={"pipeline_id": funnel["id"]})).json()["items"] == []
    assert (await theirs.get(f"/leads/{spam['id']}")).status_code == 404
    assert (await theirs.get(f"/leads/{spam['id']}/automation")).status_code == 404
    assert (await theirs.get(f"/contacts/{spammer['id']}")).status_code == 404


async def login_as(stack: Stack, user: dict[str, Any]) -> httpx.AsyncClient:
    return await login(stack.gateway_url, user["email"], user["password"])
