"""SN-2 Client acquisition pipeline, end to end through the gateway against the whole stack,
every robot an automation rule made over REST.

"Decision maker found" creates a strategy-meeting task for the responsible (due in two
business days, with a checklist), closed by itself when the deal moves on; the first call
or e-mail moves the deal to "Company presentation" (a later one changes nothing: its
condition says why); "In supplier pool" creates a deal in the Project manager pipeline when
there is a request, and one in the Reminder pipeline always, each linked to the source deal
both ways. A dry run answers what would fire and creates nothing; the run log shows every
evaluation with its rule version; a change of a rule is a new version; operators find the
runs in Temporal by DealId.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
from temporalio.client import Client

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually, problem
from tests.e2e.test_pit_2_new_client_onboarding import Person, Staff, post
from tests.e2e.test_pit_2_new_client_onboarding import staff as staff  # the fixture


async def pipeline(
    admin: httpx.AsyncClient, name: str, stages: list[str], fields: dict[str, str]
) -> tuple[int, dict[str, int]]:
    body = {"name": name, "stages": [{"name": s, "semantic": "in_progress"} for s in stages]}
    made = await post(admin, "/pipelines", body)
    for code, kind in fields.items():
        await post(
            admin, f"/pipelines/{made['id']}/fields", {"code": code, "name": code, "type": kind}
        )
    return made["id"], {s["name"]: s["id"] for s in made["stages"]}


async def deal(who: Person, deal_id: int) -> dict[str, Any]:
    resp = await who.client.get(f"/deals/{deal_id}")
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def runs(who: Person, deal_id: int) -> list[dict[str, Any]]:
    resp = await who.client.get(f"/deals/{deal_id}/automation")
    assert resp.status_code == 200, resp.text
    return list(resp.json())


async def settled_runs(
    who: Person, deal_id: int, count: int, *, finished: bool = True
) -> list[dict[str, Any]]:
    """The deal's run log once it holds `count` runs (all ended unless asked otherwise)."""

    async def probe() -> list[dict[str, Any]] | None:
        found = await runs(who, deal_id)
        ended = all(r["status"] not in ("scheduled", "running") for r in found)
        return found if len(found) >= count and (ended or not finished) else None

    return await eventually(probe, timeout=30, what=f"{count} automation runs on deal {deal_id}")


async def test_sn_2_client_acquisition(
    stack: Stack, admin: httpx.AsyncClient, staff: Staff
) -> None:
    tag = uuid.uuid4().hex[:6]
    sales = await post(admin, "/departments", {"name": f"Sales {tag}"})
    manager = await staff.add("manager", "manager", sales["id"])
    acquisition, stage = await pipeline(
        admin,
        f"Client acquisition {tag}",
        ["Collect", "Decision maker found", "Company presentation", "In supplier pool"],
        {"source": "string", "decision_maker": "string", "request": "text"},
    )
    projects, project_stage = await pipeline(
        admin,
        f"Project manager {tag}",
        ["New request", "Clarifying"],
        {"request": "text", "source": "string"},
    )
    reminders, reminder_stage = await pipeline(
        admin, f"Reminders {tag}", ["To remind"], {"needs": "text"}
    )

    rules = f"/pipelines/{acquisition}/rules"
    meeting = {
        "name": "Strategy meeting",
        "trigger": {"event": "enter", "stage_id": stage["Decision maker found"]},
        "condition": {"all": [{"field": "decision_maker", "op": "not_empty"}]},
        "actions": [
            {
                "type": "create_task",
                "title": "Organise a strategy meeting with management",
                "assignee": {"kind": "responsible"},
                "deadline": {"business_days": 2},
                "checklist": ["Invite the heads", "Agenda sent"],
                "close_on_leave": True,
            }
        ],
    }
    first_touch = {
        "name": "First touch",
        "trigger": {"event": "activity_logged", "kind": "any"},
        "condition": {
            "field": "stage_id",
            "op": "in",
            "value": [stage["Collect"], stage["Decision maker found"]],
        },
        "actions": [{"type": "move", "stage_id": stage["Company presentation"]}],
    }
    to_projects = {
        "name": "Project request",
        "trigger": {"event": "enter", "stage_id": stage["In supplier pool"]},
        "condition": {"field": "request", "op": "not_empty"},
        "actions": [
            {
                "type": "create_deal",
                "pipeline_id": projects,
                "stage_id": project_stage["New request"],
                "fields": {"request": "request", "source": "source"},
            }
        ],
    }
    to_reminders = {
        "name": "Remind the client",
        "trigger": {"event": "enter", "stage_id": stage["In supplier pool"]},
        "actions": [
            {
                "type": "create_deal",
                "pipeline_id": reminders,
                "stage_id": reminder_stage["To remind"],
            },
            {"type": "add_timeline_note", "text": "In the supplier pool: reminders planned"},
        ],
    }
    # Admins only; a rule is checked against the pipeline's fields and stages.
    assert (await manager.client.post(rules, json=meeting)).status_code == 403
    bad = {**meeting, "condition": {"all": [{"field": "decision_maker", "op": "gt", "value": 1}]}}
    resp = await admin.post(rules, json=bad)
    assert resp.status_code == 422 and problem(resp)["errors"][0]["field"] == "condition.all[0].op"
    resp = await admin.post(
        rules,
        json={
            **first_touch,
            "actions": [{"type": "move", "stage_id": project_stage["Clarifying"]}],
        },
    )
    assert resp.status_code == 422 and problem(resp)["errors"][0]["field"] == "actions[0].stage_id"
    made = {}
    for rule in (meeting, first_touch, to_projects, to_reminders):
        stored = await post(admin, rules, rule)
        assert stored["version"] == 1 and stored["name"] == rule["name"]
        made[rule["name"]] = stored["id"]

    lead = await post(
        manager.client,
        "/deals",
        {
            "pipeline_id": acquisition,
            "title": f"Interior Group {tag}",
            "company_name": "Interior Group",
            "fields": {"source": "exhibition", "request": "Furnish 3 floors of offices"},
        },
    )
    cold = await post(
        manager.client,
        "/deals",
        {"pipeline_id": acquisition, "title": f"Cold lead {tag}", "fields": {"source": "site"}},
    )

    # A dry run: what would fire on entering "Decision maker found", resolved; nothing made.
    dry = await admin.post(
        f"{rules}/dry-run",
        json={
            "deal_id": lead["id"],
            "trigger": {"event": "enter", "stage_id": stage["Decision maker found"]},
        },
    )
    assert dry.status_code == 200, dry.text
    (answer,) = dry.json()["rules"]
    assert (answer["rule_id"], answer["fires"]) == (str(made["Strategy meeting"]), False)
    assert answer["condition"]["reason"] == "fields.decision_maker is empty"
    etag = (await manager.client.get(f"/deals/{lead['id']}")).headers["etag"]
    resp = await manager.client.patch(
        f"/deals/{lead['id']}",
        json={"fields": {"decision_maker": "Olga, COO"}},
        headers={"If-Match": etag},
    )
    assert resp.status_code == 200, resp.text
    dry = (
        await admin.post(
            f"{rules}/dry-run",
            json={
                "deal_id": lead["id"],
                "trigger": {"event": "enter", "stage_id": stage["Decision maker found"]},
            },
        )
    ).json()
    (answer,) = dry["rules"]
    assert answer["fires"] and answer["actions"][0]["assignee_id"] == str(manager.id)
    assert datetime.fromisoformat(answer["actions"][0]["deadline"]) > datetime.fromisoformat(
        answer["actions"][0]["due_at"]
    )
    assert await runs(manager, lead["id"]) == []
    tasks = (await manager.client.get("/tasks", params={"deal_id": lead["id"]})).json()["items"]
    assert tasks == [], "the dry run created nothing"

    # Decision maker found: the strategy-meeting task, listed with its checklist and rule.
    resp = await manager.client.post(
        f"/deals/{lead['id']}/move", json={"stage_id": stage["Decision maker found"]}
    )
    assert resp.status_code == 200, resp.text

    async def meeting_task() -> dict[str, Any] | None:
        listed = (
            await manager.client.get("/tasks", params={"assignee": "me", "deal_id": lead["id"]})
        ).json()["items"]
        return next((t for t in listed if t["kind"] == "automation.task"), None)

    task = await eventually(meeting_task, timeout=30, what="the strategy-meeting task")
    assert task["title"] == "Organise a strategy meeting with management"
    assert task["checklist"] == ["Invite the heads", "Agenda sent"]
    assert (
        task["rule_id"] == made["Strategy meeting"]
        and task["deadline"]
        and task["status"] == "open"
    )

    # The first call moves the deal on; the task closes by itself.
    resp = await manager.client.post(
        f"/deals/{lead['id']}/timeline", json={"kind": "call", "text": "Called Olga"}
    )
    assert resp.status_code == 201, resp.text

    async def presented() -> bool:
        return (await deal(manager, lead["id"]))["stage_id"] == stage["Company presentation"]

    await eventually(presented, timeout=30, what="the move to Company presentation")

    async def closed() -> dict[str, Any] | None:
        got = (await manager.client.get(f"/tasks/{task['id']}")).json()
        return got if got["status"] == "cancelled" else None

    await eventually(closed, timeout=30, what="the task closed on leaving the stage")
    # A second touch: the condition no longer holds, and the log says why.
    await post(
        manager.client, f"/deals/{lead['id']}/timeline", {"kind": "email", "text": "Sent the deck"}
    )
    log = await settled_runs(manager, lead["id"], 3)
    latest = log[0]
    assert (latest["rule_id"], latest["status"]) == (str(made["First touch"]), "skipped")
    assert latest["condition"]["result"] is False and "fields" not in latest["condition"]["reason"]
    assert latest["condition"]["reason"].startswith("stage_id (")

    # In supplier pool with a request: a project deal and a reminder deal, linked both ways.
    resp = await manager.client.post(
        f"/deals/{lead['id']}/move", json={"stage_id": stage["In supplier pool"]}
    )
    assert resp.status_code == 200, resp.text

    async def linked() -> dict[str, Any] | None:
        got = await deal(manager, lead["id"])
        return got if len(got["links"]) == 2 else None

    source = await eventually(linked, timeout=30, what="two linked deals")
    assert {link["relation"] for link in source["links"]} == {"created"}
    made_deals = [await deal(manager, link["deal_id"]) for link in source["links"]]
    by_pipeline = {d["pipeline_id"]: d for d in made_deals}
    assert set(by_pipeline) == {projects, reminders}
    project = by_pipeline[projects]
    assert project["fields"] == {"request": "Furnish 3 floors of offices", "source": "exhibition"}
    assert (
        project["stage_id"] == project_stage["New request"]
        and project["company_name"] == "Interior Group"
    )
    assert project["responsible_id"] == manager.id
    for made_deal in made_deals:
        assert made_deal["links"] == [{"deal_id": lead["id"], "relation": "created_from"}]
    listed = (await manager.client.get("/deals", params={"pipeline_id": projects})).json()["items"]
    assert listed[0]["links"] == [{"deal_id": lead["id"], "relation": "created_from"}]

    # Without a request: the reminder deal only; the log names the reason.
    for name in ("Decision maker found", "In supplier pool"):
        resp = await manager.client.post(
            f"/deals/{cold['id']}/move", json={"stage_id": stage[name]}
        )
        assert resp.status_code == 200, resp.text
    cold_log = await settled_runs(manager, cold["id"], 3)
    by_rule = {r["rule_id"]: r for r in cold_log}
    assert by_rule[str(made["Project request"])]["reason"] == "fields.request is empty"
    assert by_rule[str(made["Strategy meeting"])]["status"] == "skipped"
    reminder_run = by_rule[str(made["Remind the client"])]
    assert reminder_run["status"] == "done"
    assert [(s["type"], s["status"]) for s in reminder_run["steps"]] == [
        ("create_deal", "done"),
        ("add_timeline_note", "done"),
    ]
    cold_now = await deal(manager, cold["id"])
    assert len(cold_now["links"]) == 1
    assert (await deal(manager, cold_now["links"][0]["deal_id"]))["pipeline_id"] == reminders

    # The run log of the lead: every rule that fired, its version, each action's result.
    log = await settled_runs(manager, lead["id"], 5)
    fired = {(r["rule_id"], r["status"]) for r in log}
    assert (str(made["Strategy meeting"]), "done") in fired and (
        str(made["First touch"]),
        "done",
    ) in fired
    assert all(r["rule_version"] == 1 for r in log)
    meeting_run = next(r for r in log if r["rule_id"] == str(made["Strategy meeting"]))
    assert meeting_run["trigger"] == 'enter "Decision maker found"'
    assert meeting_run["steps"][0]["status"] == "done" and meeting_run["workflow_id"].startswith(
        f"deal-{lead['id']}/automation/"
    )

    # A change is a new version, listed.
    resp = await admin.patch(
        f"{rules}/{made['Strategy meeting']}",
        json={"actions": [{**meeting["actions"][0], "title": "Strategy meeting with the heads"}]},
    )
    assert resp.status_code == 200 and resp.json()["version"] == 2, resp.text
    versions = (await admin.get(f"{rules}/{made['Strategy meeting']}/versions")).json()
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[1]["definition"]["actions"][0]["title"] == meeting["actions"][0]["title"]

    # Operators find the same runs in Temporal by the deal's id (a rule whose condition was
    # false is in the log only: it started no workflow).
    fired = {r["workflow_id"] for r in log if r["status"] not in ("skipped", "loop_bound")}
    assert fired and len(fired) < len(log)
    temporal = await Client.connect(stack.temporal_address, namespace=stack.namespace)

    async def found() -> set[str] | None:
        ids = {
            wf.id
            async for wf in temporal.list_workflows(
                f'DealId = "{lead["id"]}" AND WorkflowType = "automation_run"'
            )
        }
        return ids if fired <= ids else None

    await eventually(found, timeout=30, what="the runs by DealId")
