"""Automation in the deals service against real PostgreSQL: rules in the new shape and
their versions, planning a run (condition, reason, resolved assignee and business-day
deadline) recorded once in the run log, the loop bound, a dry run that stores nothing, the
calendar, and a linked deal made once per key and shown on both deals."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from dealflow.deals.v1 import automation_pb2 as apb
from dealflow.deals.v1 import automation_pb2_grpc as apb_grpc
from dealflow.deals.v1 import deals_pb2 as pb
from dealflow.deals.v1 import deals_pb2_grpc as pb_grpc

from services.common.errors import NotFound, PermissionDenied, ValidationFailed
from services.common.grpc_client import call, channel
from services.common.protoconv import from_struct, to_struct
from services.deals.automation_plan import LOOP_BOUND
from services.deals.main import start_server
from services.deals.service import DealsService

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def stubs(
    service: DealsService,
) -> AsyncIterator[tuple[pb_grpc.DealsServiceStub, apb_grpc.AutomationServiceStub]]:
    server, port = await start_server(service)
    chan: grpc.aio.Channel = channel(f"127.0.0.1:{port}")
    yield pb_grpc.DealsServiceStub(chan), apb_grpc.AutomationServiceStub(chan)
    await chan.close()
    await server.stop(None)


async def setup(stub: pb_grpc.DealsServiceStub, admin: pb.User) -> tuple[pb.Pipeline, pb.Pipeline]:
    tag = uuid.uuid4().hex[:6]
    clients = await call(
        stub.CreatePipeline,
        pb.CreatePipelineRequest(
            name=f"Clients {tag}",
            stages=[
                pb.StageInput(name="Collect"),
                pb.StageInput(name="Decision maker found"),
                pb.StageInput(name="Presentation"),
            ],
        ),
        actor=admin.id,
    )
    for code, kind in (("source", "string"), ("has_spec", "bool"), ("request", "text")):
        await call(
            stub.CreateField,
            pb.CreateFieldRequest(pipeline_id=clients.id, code=code, name=code, type=kind),
            actor=admin.id,
        )
    projects = await call(
        stub.CreatePipeline,
        pb.CreatePipelineRequest(name=f"Projects {tag}", stages=[pb.StageInput(name="Clarifying")]),
        actor=admin.id,
    )
    await call(
        stub.CreateField,
        pb.CreateFieldRequest(pipeline_id=projects.id, code="request", name="r", type="text"),
        actor=admin.id,
    )
    clients = await call(stub.GetPipeline, pb.GetPipelineRequest(id=clients.id))
    return clients, projects


def rule_request(pipeline: pb.Pipeline, definition: dict[str, Any]) -> pb.CreateRuleRequest:
    return pb.CreateRuleRequest(pipeline_id=pipeline.id, definition=to_struct(definition))


async def test_a_rule_is_planned_once_per_run_and_logged(stubs: Any, admin: pb.User) -> None:
    stub, automation = stubs
    clients, _ = await setup(stub, admin)
    found = clients.stages[1].id
    definition = {
        "name": "Strategy meeting",
        "trigger": {"event": "enter", "stage_id": int(found)},
        "condition": {
            "all": [{"field": "source", "op": "not_empty"}, {"field": "has_spec", "op": "empty"}]
        },
        "actions": [
            {
                "type": "create_task",
                "title": "Strategy meeting",
                "assignee": {"kind": "responsible"},
                "deadline": {"business_days": 2},
                "checklist": ["Agenda"],
                "close_on_leave": True,
            },
            {"type": "move", "stage_id": int(clients.stages[2].id), "delay": {"days": 7}},
        ],
    }
    rule = await call(stub.CreateRule, rule_request(clients, definition), actor=admin.id)
    assert rule.version == 1 and rule.event == "enter" and rule.stage_id == found
    deal = await call(
        stub.CreateDeal,
        pb.CreateDealRequest(
            pipeline_id=clients.id, title="Acme", fields=to_struct({"source": "call"})
        ),
        actor=admin.id,
    )

    plan_request = apb.PlanRunRequest(
        workflow_id=f"deal-{deal.id}/automation/{rule.id}/e1",
        deal_id=deal.id,
        rule_id=rule.id,
        rule_version=1,
        event_id="e1",
        trigger='enter "Decision maker found"',
    )
    plan = from_struct((await call(automation.PlanRun, plan_request)).plan)
    assert plan["fires"] and plan["status"] == "scheduled"
    assert plan["reason"] == "fields.source is not empty and fields.has_spec is empty"
    task, move = plan["actions"]
    assert task["assignee_id"] == admin.id and task["deadline"] > task["due_at"]
    assert move["due_at"] > task["due_at"]
    again = from_struct((await call(automation.PlanRun, plan_request)).plan)
    fresh = {"status": "scheduled", "steps": []}  # how far the run came: not begun
    assert again == {**plan, "recorded": fresh}, "asked again (a retried activity), the plan"

    await call(
        automation.RecordStep,
        apb.RecordStepRequest(
            workflow_id=plan_request.workflow_id,
            index=0,
            status="done",
            detail="task 7",
            data=to_struct({"task_id": "7"}),
        ),
    )
    await call(
        automation.RecordStep,
        apb.RecordStepRequest(
            workflow_id=plan_request.workflow_id,
            index=1,
            status="cancelled",
            detail="cancelled: the deal left the stage",
        ),
    )
    run = from_struct(
        (
            await call(
                automation.RecordStep,
                apb.RecordStepRequest(
                    workflow_id=plan_request.workflow_id,
                    index=-1,
                    status="cancelled",
                    detail="left",
                    run_status="cancelled",
                ),
            )
        ).run
    )
    assert [(s["index"], s["type"], s["status"]) for s in run["steps"]] == [
        (0, "create_task", "done"),
        (1, "move", "cancelled"),
    ]

    # A change is a new version; the run log names the version that ran.
    changed = pb.UpdateRuleRequest(
        pipeline_id=clients.id,
        id=rule.id,
        set_fields=["definition"],
        definition=to_struct({"condition": {"field": "has_spec", "op": "not_empty"}}),
    )
    assert (await call(stub.UpdateRule, changed, actor=admin.id)).version == 2
    versions = await call(
        automation.ListRuleVersions,
        apb.ListRuleVersionsRequest(pipeline_id=clients.id, rule_id=rule.id),
        actor=admin.id,
    )
    assert [v.version for v in versions.versions] == [2, 1]
    skipped_request = apb.PlanRunRequest(
        workflow_id=f"deal-{deal.id}/automation/{rule.id}/e2",
        deal_id=deal.id,
        rule_id=rule.id,
        rule_version=2,
        event_id="e2",
        trigger="t",
    )
    skipped = from_struct((await call(automation.PlanRun, skipped_request)).plan)
    assert (skipped["fires"], skipped["status"], skipped["reason"]) == (
        False,
        "skipped",
        "fields.has_spec is empty",
    )

    log = [
        from_struct(r)
        for r in (
            await call(automation.ListRuns, apb.ListRunsRequest(deal_id=deal.id), actor=admin.id)
        ).runs
    ]
    assert [(r["rule_version"], r["status"]) for r in log] == [(2, "skipped"), (1, "cancelled")]
    assert log[0]["condition"] == {"result": False, "reason": "fields.has_spec is empty"}
    outsider = await call(
        stub.CreateUser,
        pb.CreateUserRequest(
            email=f"o-{uuid.uuid4().hex[:6]}@x.test", password="pw-123456", roles=["manager"]
        ),
        actor=admin.id,
    )
    with pytest.raises(
        NotFound
    ):  # the log is the deal's: who does not see the deal, does not see it
        await call(automation.ListRuns, apb.ListRunsRequest(deal_id=deal.id), actor=outsider.id)


async def test_a_rule_that_would_loop_hits_the_bound_and_says_so(
    stubs: Any, admin: pb.User
) -> None:
    stub, automation = stubs
    clients, _ = await setup(stub, admin)
    rule = await call(
        stub.CreateRule,
        rule_request(
            clients,
            {
                "name": "Ping",
                "trigger": {"event": "field_changed", "field": "source"},
                "actions": [{"type": "set_fields", "fields": {"source": "again"}}],
            },
        ),
        actor=admin.id,
    )
    deal = await call(
        stub.CreateDeal, pb.CreateDealRequest(pipeline_id=clients.id, title="Loop"), actor=admin.id
    )
    statuses = []
    for n in range(LOOP_BOUND + 1):
        request = apb.PlanRunRequest(
            workflow_id=f"deal-{deal.id}/automation/{rule.id}/{n}",
            deal_id=deal.id,
            rule_id=rule.id,
            event_id=str(n),
            trigger="source changed",
        )
        statuses.append(from_struct((await call(automation.PlanRun, request)).plan)["status"])
    assert statuses == ["scheduled"] * LOOP_BOUND + ["loop_bound"]
    (last, *_) = [
        from_struct(r)
        for r in (await call(automation.ListRuns, apb.ListRunsRequest(deal_id=deal.id))).runs
    ]
    assert last["status"] == "loop_bound" and "loop bound" in last["reason"]

    # In one PlanRuns the bound counts the runs fired earlier in the same call.
    other = await call(
        stub.CreateDeal,
        pb.CreateDealRequest(pipeline_id=clients.id, title="Loop 2"),
        actor=admin.id,
    )
    batch = [
        apb.PlanRunRequest(
            workflow_id=f"deal-{other.id}/automation/{rule.id}/{n}",
            deal_id=other.id,
            rule_id=rule.id,
            event_id=str(n),
            trigger="source changed",
        )
        for n in range(LOOP_BOUND + 1)
    ]
    reply = await call(automation.PlanRuns, apb.PlanRunsRequest(runs=batch))
    assert [from_struct(p.plan)["status"] for p in reply.plans] == ["scheduled"] * LOOP_BOUND + [
        "loop_bound"
    ]


async def test_the_rules_an_event_fires_are_planned_in_one_call(stubs: Any, admin: pb.User) -> None:
    """PlanRuns: one call plans each rule in order (a false condition logged, a rule gone
    planned as not firing and not logged), the loop bound counting the runs before it in
    the same call, and asking again answers the recorded plans."""
    stub, automation = stubs
    clients, _ = await setup(stub, admin)
    found = int(clients.stages[1].id)
    note = {"type": "add_timeline_note", "text": "n"}
    rules = [
        await call(
            stub.CreateRule,
            rule_request(
                clients,
                {
                    "name": f"R{n}",
                    "trigger": {"event": "enter", "stage_id": found},
                    **({"condition": {"field": "source", "op": "eq", "value": "x"}} if n else {}),
                    "actions": [note],
                },
            ),
            actor=admin.id,
        )
        for n in range(3)
    ]
    deal = await call(
        stub.CreateDeal, pb.CreateDealRequest(pipeline_id=clients.id, title="Batch"), actor=admin.id
    )
    runs = [
        apb.PlanRunRequest(
            workflow_id=f"deal-{deal.id}/automation/{rule_id}/b1",
            deal_id=deal.id,
            rule_id=rule_id,
            event_id="b1",
            trigger="enter",
        )
        for rule_id in [r.id for r in rules] + ["999999"]
    ]
    reply = await call(automation.PlanRuns, apb.PlanRunsRequest(runs=runs))
    plans = [from_struct(p.plan) for p in reply.plans]
    assert [p["fires"] for p in plans] == [True, False, False, False]
    assert plans[3].get("gone") and "999999" in plans[3]["reason"]
    logged = (await call(automation.ListRuns, apb.ListRunsRequest(deal_id=deal.id))).runs
    assert len(logged) == 3, "every evaluation of a rule that exists is in the run log"
    waiting = apb.ListRunsRequest(deal_id=deal.id, waiting_only=True)
    (only,) = [from_struct(r) for r in (await call(automation.ListRuns, waiting)).runs]
    assert (only["rule_id"], only["status"]) == (rules[0].id, "scheduled"), "the skipped: not"
    again = await call(automation.PlanRuns, apb.PlanRunsRequest(runs=runs[:3]))
    assert [from_struct(p.plan) for p in again.plans] == [
        {**p, "recorded": {"status": p["status"], "steps": []}} for p in plans[:3]
    ]
    other = apb.PlanRunRequest(workflow_id="x", deal_id=str(int(deal.id) + 1), rule_id=rules[0].id)
    with pytest.raises(ValidationFailed):
        await call(automation.PlanRuns, apb.PlanRunsRequest(runs=[runs[0], other]))


async def test_a_dry_run_answers_what_would_fire_and_stores_nothing(
    stubs: Any, admin: pb.User
) -> None:
    stub, automation = stubs
    clients, _ = await setup(stub, admin)
    found = int(clients.stages[1].id)
    for name, condition in (
        ("Yes", {"field": "source", "op": "not_empty"}),
        ("No", {"field": "has_spec", "op": "not_empty"}),
    ):
        definition = {
            "name": name,
            "trigger": {"event": "enter", "stage_id": found},
            "condition": condition,
            "actions": [
                {"type": "notify", "title": "Hi", "assignee": {"kind": "responsible_head"}}
            ],
        }
        await call(stub.CreateRule, rule_request(clients, definition), actor=admin.id)
    await call(
        stub.CreateRule,
        rule_request(
            clients,
            {
                "name": "Other",
                "trigger": {"event": "leave", "stage_id": found},
                "actions": [{"type": "add_timeline_note", "text": "x"}],
            },
        ),
        actor=admin.id,
    )
    deal = await call(
        stub.CreateDeal,
        pb.CreateDealRequest(
            pipeline_id=clients.id, title="Dry", fields=to_struct({"source": "mail"})
        ),
        actor=admin.id,
    )
    request = apb.DryRunRequest(
        pipeline_id=clients.id,
        deal_id=deal.id,
        trigger=to_struct({"event": "enter", "stage_id": found}),
    )
    answers = [
        from_struct(r) for r in (await call(automation.DryRun, request, actor=admin.id)).rules
    ]
    assert [(a["rule_name"], a["fires"]) for a in answers] == [("Yes", True), ("No", False)]
    assert answers[1]["condition"]["reason"] == "fields.has_spec is empty"
    assert "assignee_id" in answers[0]["actions"][0] or "error" in answers[0]["actions"][0]
    runs = await call(automation.ListRuns, apb.ListRunsRequest(deal_id=deal.id))
    assert list(runs.runs) == []
    got = await call(stub.GetDeal, pb.GetDealRequest(id=deal.id))
    assert got.stage_id == clients.stages[0].id and got.version == deal.version


async def test_the_calendar_is_admin_edited_and_checked(stubs: Any, admin: pb.User) -> None:
    stub, automation = stubs
    good = {
        "timezone": "Europe/Moscow",
        "working_days": [1, 2, 3, 4, 5],
        "holidays": ["2027-01-01"],
    }
    saved = await call(
        automation.PutCalendar, apb.PutCalendarRequest(calendar=to_struct(good)), actor=admin.id
    )
    assert from_struct(saved.calendar)["timezone"] == "Europe/Moscow"
    with pytest.raises(ValidationFailed) as err:
        await call(
            automation.PutCalendar,
            apb.PutCalendarRequest(calendar=to_struct({"timezone": "Nowhere/City"})),
            actor=admin.id,
        )
    assert [p.field for p in err.value.problems] == ["timezone"]
    manager = await call(
        stub.CreateUser,
        pb.CreateUserRequest(
            email=f"c-{uuid.uuid4().hex[:6]}@x.test", password="pw-123456", roles=["manager"]
        ),
        actor=admin.id,
    )
    with pytest.raises(PermissionDenied):
        await call(
            automation.PutCalendar,
            apb.PutCalendarRequest(calendar=to_struct(good)),
            actor=manager.id,
        )
    read = await call(automation.GetCalendar, apb.GetCalendarRequest(), actor=manager.id)
    assert from_struct(read.calendar)["holidays"] == ["2027-01-01"]
    await call(
        automation.PutCalendar, apb.PutCalendarRequest(calendar=to_struct({})), actor=admin.id
    )


async def test_a_linked_deal_is_made_once_per_key_and_shown_on_both(
    stubs: Any, admin: pb.User
) -> None:
    stub, automation = stubs
    clients, projects = await setup(stub, admin)
    source = await call(
        stub.CreateDeal,
        pb.CreateDealRequest(
            pipeline_id=clients.id,
            title="Acme",
            company_name="Acme",
            fields=to_struct({"request": "200 drills"}),
        ),
        actor=admin.id,
    )
    request = apb.CreateLinkedDealRequest(
        idempotency_key=f"k-{uuid.uuid4().hex}",
        source_deal_id=source.id,
        pipeline_id=projects.id,
        fields=to_struct({"request": "request"}),
    )
    first = await call(automation.CreateLinkedDeal, request)
    again = await call(automation.CreateLinkedDeal, request)
    assert first.created and not again.created and again.deal_id == first.deal_id
    made = await call(stub.GetDeal, pb.GetDealRequest(id=first.deal_id))
    assert from_struct(made.fields) == {"request": "200 drills"} and made.company_name == "Acme"
    assert [(x.deal_id, x.relation) for x in made.links] == [(source.id, "created_from")]
    source_now = await call(stub.GetDeal, pb.GetDealRequest(id=source.id))
    assert [(x.deal_id, x.relation) for x in source_now.links] == [(first.deal_id, "created")]
    listed = await call(stub.ListDeals, pb.ListDealsRequest(pipeline_id=projects.id))
    assert [len(d.links) for d in listed.deals] == [1]


async def test_a_delay_from_a_date_field_is_planned_again_when_the_date_moves(
    stubs: Any, admin: pb.User
) -> None:
    stub, automation = stubs
    clients, _ = await setup(stub, admin)
    await call(
        stub.CreateField,
        pb.CreateFieldRequest(pipeline_id=clients.id, code="deadline", name="d", type="date"),
        actor=admin.id,
    )
    definition = {
        "name": "Deadline near",
        "trigger": {"event": "created"},
        "delay": {"field": "deadline", "offset": "-P1D"},
        "actions": [
            {"type": "notify", "title": "Due tomorrow", "assignee": {"kind": "responsible"}}
        ],
    }
    rule = await call(stub.CreateRule, rule_request(clients, definition), actor=admin.id)
    deal = await call(
        stub.CreateDeal,
        pb.CreateDealRequest(
            pipeline_id=clients.id, title="BT", fields=to_struct({"deadline": "2027-03-10"})
        ),
        actor=admin.id,
    )
    wid = f"deal-{deal.id}/automation/{rule.id}/created"
    request = apb.PlanRunRequest(
        workflow_id=wid, deal_id=deal.id, rule_id=rule.id, event_id="c", trigger="created"
    )
    plan = from_struct((await call(automation.PlanRun, request)).plan)
    assert plan["date_fields"] == ["deadline"]
    assert plan["due_at"] == "2027-03-09T09:00:00+00:00" == plan["actions"][0]["due_at"]
    update = pb.UpdateDealRequest(id=deal.id, fields=to_struct({"deadline": "2027-04-01"}))
    await call(stub.UpdateDeal, update, actor=admin.id)
    again = from_struct(
        (await call(automation.ReplanRun, apb.ReplanRunRequest(workflow_id=wid))).plan
    )
    assert again["actions"][0]["due_at"] == "2027-03-31T09:00:00+00:00"
    (run,) = [
        from_struct(r)
        for r in (await call(automation.ListRuns, apb.ListRunsRequest(deal_id=deal.id))).runs
    ]
    assert run["due_at"] == "2027-03-31T09:00:00+00:00"
