"""automation_run on leads (SN-1), on the time-skipping server: the same run as a deal's,
reading and acting on the lead — "7 days later the lead moves itself to Save contact" to
the second, cancelled when the lead leaves the stage first; a task made to close on leaving
closed when the lead has moved on (seen by looking at the lead); and the triggers reading
lead events as the deal's and starting `lead-<id>/automation/...` runs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from dealflow.deals.v1 import automation_pb2
from nats.js import JetStreamContext
from temporalio.testing import WorkflowEnvironment

from services.common.events import Envelope
from services.common.protoconv import to_struct
from tests.unit.workflows.automation_fakes import STAGE, FakeAutomation
from tests.unit.workflows.fakes import eventually
from tests.unit.workflows.test_activities import FakeStub
from tests.unit.workflows.test_automation import WEEK, delayed, running
from workflows.activities.automation_types import DEAL_MOVED_SIGNAL, AutomationInput, DealMoved
from workflows.automation import LEAD_LEFT, AutomationRun, workflow_id
from workflows.automation_triggers import STAGE_CHANGED, UPDATED, DealEvent, Rule, firings
from workflows.triggers import Triggers

SAVE_CONTACT = "15"


def lead_input(event_id: str = "") -> AutomationInput:
    return AutomationInput(
        "", "10", "5", 1, event_id or uuid.uuid4().hex, 'enter "Interesting"', "8", lead_id="7"
    )


async def start(env: WorkflowEnvironment, task_queue: str, inp: AutomationInput) -> Any:
    kind, record = inp.record
    return await env.client.start_workflow(
        AutomationRun.run,
        inp,
        id=workflow_id(record, inp.rule_id, inp.event_id, kind),
        task_queue=task_queue,
    )


async def test_seven_days_later_the_lead_moves_itself_to_save_contact(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeAutomation(delayed(WEEK, {"type": "move", "stage_id": SAVE_CONTACT}))
    async for _ in running(env, task_queue, fakes):
        started = await env.get_current_time()
        handle = await start(env, task_queue, lead_input())
        await env.sleep(WEEK - timedelta(seconds=5))
        assert fakes.acted == []  # not a second early
        assert await handle.result() == {"status": "done"}
    assert handle.id.startswith("lead-7/automation/5/")
    ((plan,),) = [fakes.planned]
    assert (plan.lead_id, plan.deal_id) == ("7", "")
    ((at, action),) = fakes.acted
    assert timedelta(0) <= at - (started + WEEK) < timedelta(seconds=1)
    assert (action.lead_id, action.deal_id, action.action["stage_id"]) == ("7", "", SAVE_CONTACT)
    assert action.stage_id == STAGE  # it runs only while the lead is still there
    assert action.idempotency_key == f"{handle.id}/0"
    assert fakes.action_steps() == [(0, "done")] and fakes.run_status() == "done"


async def test_leaving_the_stage_first_cancels_the_lead_s_delayed_move(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeAutomation(delayed(WEEK, {"type": "move", "stage_id": SAVE_CONTACT}))
    async for _ in running(env, task_queue, fakes):
        handle = await start(env, task_queue, lead_input())
        await eventually(lambda: fakes.plans == 1, "the plan")
        await env.sleep(timedelta(days=2))
        await handle.signal(DEAL_MOVED_SIGNAL, DealMoved(STAGE, "14"))
        assert await handle.result() == {"status": "cancelled"}
    assert fakes.acted == []
    assert fakes.action_steps() == [(0, "cancelled")]
    assert [s.detail for s in fakes.steps] == [LEAD_LEFT, LEAD_LEFT]


async def test_a_lead_s_task_closes_when_the_lead_has_moved_on_even_without_a_signal(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    task = {"type": "create_task", "title": "Discuss lead with management", "assignee_id": "8"}
    fakes = FakeAutomation(delayed(timedelta(0), {**task, "close_on_leave": True}))
    async for _ in running(env, task_queue, fakes):
        handle = await start(env, task_queue, lead_input())
        await eventually(lambda: fakes.acted, "the task")
        await env.sleep(timedelta(days=3))
        assert fakes.cancelled_tasks == []  # still in Discuss
        fakes.stage_id = "13"  # moved on; the signal was lost
        assert await handle.result() == {"status": "done"}
    assert fakes.cancelled_tasks == [f"t-{handle.id}/0"]
    assert set(fakes.stage_looks) == {"7"}  # it looked at the lead, never at a deal


LEAD = {"id": "7", "pipeline_id": "10", "stage_id": "13", "responsible_id": "8"}


def lead_envelope(type_: str, **data: Any) -> Envelope:
    return Envelope(
        id=uuid.UUID(int=2),
        type=type_,
        source="deals",
        time=datetime(2026, 12, 1, tzinfo=UTC),
        subject="lead/7",
        actor="5",
        data={"lead": dict(LEAD), **data},
    )


def test_lead_events_are_read_as_the_deal_s_and_fire_the_funnel_s_rules() -> None:
    moved = DealEvent.of(
        lead_envelope(
            "deals.lead.stage_changed",
            from_stage_id="12",
            to_stage_id="13",
            from_stage="Discuss",
            to_stage="Interesting",
            before={"stage_id": "12"},
            after={"stage_id": "13"},
        )
    )
    assert (moved.record, moved.type, moved.deal_id) == ("lead", STAGE_CHANGED, "7")
    rules = [
        Rule("1", "10", 1, {"event": "leave", "stage_id": 12}),
        Rule("2", "10", 1, {"event": "enter", "stage_id": 13}),
        Rule("3", "3", 1, {"event": "enter", "stage_id": 13}),  # another pipeline's
    ]
    assert [(f.rule.id, f.why) for f in firings(moved, rules)] == [
        ("1", 'leave "Discuss"'),
        ("2", 'enter "Interesting"'),
    ]
    changed = DealEvent.of(
        lead_envelope(
            "deals.lead.updated",
            before={"fields": {"has_spec": None}},
            after={"fields": {"has_spec": True}},
        )
    )
    assert (changed.type, changed.changed) == (UPDATED, {"has_spec": (None, True)})
    rule = Rule("4", "10", 1, {"event": "field_changed", "field": "has_spec"})
    assert [f.why for f in firings(changed, [rule])] == ["has_spec changed"]
    created = DealEvent.of(lead_envelope("deals.lead.created", after={}))
    assert created.record == "lead" and created.initiator_id == "5"


async def test_the_lead_triggers_plan_and_start_a_lead_run(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    plan = automation_pb2.RunPlan(plan=to_struct({"fires": True, "actions": []}))
    automation = FakeStub(PlanRuns=automation_pb2.RunPlans(plans=[plan]))
    triggers = Triggers(
        js=cast(JetStreamContext, None),
        temporal=env.client,
        deals=cast(Any, None),
        automation=automation,
        task_queue=task_queue,
        records="lead",
    )
    event = DealEvent.of(lead_envelope("deals.lead.created", after={}))
    rule = Rule("5", "10", 1, {"event": "created"})
    ((firing,),) = [firings(event, [rule])]
    fakes = FakeAutomation(delayed(timedelta(0), {"type": "exclude_contact"}))
    async for _ in running(env, task_queue, fakes):
        assert [p["fires"] for p in await triggers._plans(event, [firing])] == [True]
        await triggers._start(event, firing, triggers._input(event, firing))
        wid = workflow_id("7", "5", event.event_id, "lead")
        await env.client.get_workflow_handle(wid).result()
    ((name, request, _),) = automation.calls
    (run,) = request.runs
    assert (name, run.lead_id, run.deal_id, run.workflow_id) == ("PlanRuns", "7", "", wid)
    ((_, action),) = fakes.acted
    assert (action.lead_id, action.action["type"]) == ("7", "exclude_contact")
