"""automation_run on the time-skipping server: delays due to the second (7 days; 2
business days across a weekend and a holiday), a delayed move cancelled by leaving the
stage, a reschedule when the date field changes, a failing action, tasks closed on leaving,
a redelivered event and a rule bounded from looping."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.deals.domain.calendar import CompanyCalendar, add_business_days
from tests.unit.workflows.automation_fakes import STAGE, FakeAutomation, Planner, plan_of
from tests.unit.workflows.fakes import eventually
from workflows.activities.automation_types import (
    DEAL_CHANGED_SIGNAL,
    DEAL_MOVED_SIGNAL,
    AutomationInput,
    DealChanged,
    DealMoved,
)
from workflows.automation import AutomationRun, workflow_id

WEEK = timedelta(days=7)


def run_input(event_id: str = "") -> AutomationInput:
    return AutomationInput("42", "3", "5", 2, event_id or uuid.uuid4().hex, 'enter "Collect"', "8")


async def running(
    env: WorkflowEnvironment, task_queue: str, fakes: FakeAutomation
) -> AsyncIterator[Worker]:
    async with Worker(
        env.client, task_queue=task_queue, workflows=[AutomationRun], activities=fakes.activities()
    ) as worker:
        yield worker


async def start(
    env: WorkflowEnvironment, task_queue: str, inp: AutomationInput | None = None
) -> WorkflowHandle[Any, Any]:
    inp = inp or run_input()
    return await env.client.start_workflow(
        AutomationRun.run,
        inp,
        id=workflow_id(inp.deal_id, inp.rule_id, inp.event_id),
        task_queue=task_queue,
    )


def delayed(delay: timedelta, *actions: dict[str, Any]) -> Planner:
    def plan(now: datetime) -> dict[str, Any]:
        due = (now + delay).isoformat()
        return plan_of([{**a, "due_at": due} for a in actions])

    return plan


def make(planner: Planner, **more: Any) -> Callable[[], FakeAutomation]:
    return lambda: FakeAutomation(planner, **more)


async def test_a_move_seven_days_later_runs_seven_days_later_to_the_second(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeAutomation(delayed(WEEK, {"type": "move", "stage_id": 13}))
    async for _ in running(env, task_queue, fakes):
        started = await env.get_current_time()
        handle = await start(env, task_queue)
        assert await handle.result() == {"status": "done"}
    ((at, action),) = fakes.acted
    assert timedelta(0) <= at - (started + WEEK) < timedelta(seconds=1)
    assert action.action["type"] == "move"
    assert action.idempotency_key == f"{handle.id}/0"
    assert fakes.action_steps() == [(0, "done")] and fakes.run_status() == "done"


async def test_two_business_days_skip_a_weekend_and_a_holiday(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    now = await env.get_current_time()
    friday = datetime.combine(
        now.date() + timedelta(days=(4 - now.weekday()) % 7 or 7), datetime.min.time(), UTC
    ) + timedelta(hours=12)
    await env.sleep(friday - now)
    monday = (friday + timedelta(days=3)).date()
    calendar = CompanyCalendar(holidays=frozenset({monday}))

    def plan(at: datetime) -> dict[str, Any]:
        due = add_business_days(at, 2, calendar)
        return plan_of(
            [
                {
                    "type": "create_task",
                    "title": "Call",
                    "assignee_id": "8",
                    "due_at": due.isoformat(),
                }
            ]
        )

    fakes = FakeAutomation(plan)
    async for _ in running(env, task_queue, fakes):
        handle = await start(env, task_queue)
        await handle.result()
    ((at, _),) = fakes.acted
    assert at.date() == monday + timedelta(days=2)  # Wednesday
    assert timedelta(0) <= at - (friday + timedelta(days=5)) < timedelta(seconds=5)


async def test_leaving_the_stage_cancels_a_delayed_move(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeAutomation(
        delayed(WEEK, {"type": "move", "stage_id": 13}, {"type": "add_timeline_note", "text": "x"})
    )
    async for _ in running(env, task_queue, fakes):
        handle = await start(env, task_queue)
        await eventually(lambda: fakes.plans == 1, "the plan")
        await handle.signal(DEAL_MOVED_SIGNAL, DealMoved("99", "11"))  # another stage: no
        await handle.signal(DEAL_MOVED_SIGNAL, DealMoved(STAGE, "12"))
        assert await handle.result() == {"status": "cancelled"}
    assert fakes.acted == []
    assert fakes.action_steps() == [(0, "cancelled"), (1, "cancelled")]
    assert fakes.run_status() == "cancelled"


async def test_a_move_the_signal_missed_cancels_when_the_timer_fires(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeAutomation(delayed(WEEK, {"type": "move", "stage_id": 13}), stage_id="12")
    async for _ in running(env, task_queue, fakes):
        assert await (await start(env, task_queue)).result() == {"status": "cancelled"}
    assert fakes.acted == []


async def test_a_rule_that_keeps_its_run_goes_on_after_leaving(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    def plan(now: datetime) -> dict[str, Any]:
        return {**delayed(WEEK, {"type": "move", "stage_id": 13})(now), "keep_on_leave": True}

    fakes = FakeAutomation(plan, stage_id="12")
    async for _ in running(env, task_queue, fakes):
        handle = await start(env, task_queue)
        await eventually(lambda: fakes.plans == 1, "the plan")
        await handle.signal(DEAL_MOVED_SIGNAL, DealMoved(STAGE, "12"))
        assert await handle.result() == {"status": "done"}
    assert len(fakes.acted) == 1


async def test_a_changed_date_field_reschedules_the_delay(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    def plan(now: datetime) -> dict[str, Any]:
        return {
            **delayed(WEEK, {"type": "notify", "title": "Due"})(now),
            "date_fields": ["deadline"],
        }

    new_due: list[datetime] = []

    def replan(now: datetime) -> dict[str, Any]:
        new_due.append(now + 2 * WEEK)
        return {
            **plan_of([{"type": "notify", "title": "Due", "due_at": new_due[0].isoformat()}]),
            "date_fields": ["deadline"],
        }

    fakes = FakeAutomation(plan, replanner=replan)
    async for _ in running(env, task_queue, fakes):
        handle = await start(env, task_queue)
        await eventually(lambda: fakes.plans == 1, "the plan")
        await handle.signal(DEAL_CHANGED_SIGNAL, DealChanged(["title"]))  # not a date it waits on
        await handle.signal(DEAL_CHANGED_SIGNAL, DealChanged(["deadline"]))
        await handle.result()
    ((at, _),) = fakes.acted
    assert timedelta(0) <= at - new_due[0] < timedelta(seconds=1)


async def test_a_failing_action_is_recorded_and_stops_the_rest(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    actions = [
        {"type": "add_timeline_note", "text": "a"},
        {"type": "move", "stage_id": 13},
        {"type": "notify", "title": "n"},
    ]
    fakes = FakeAutomation(delayed(timedelta(0), *actions), fail_types={"move"})
    async for _ in running(env, task_queue, fakes):
        result = await (await start(env, task_queue)).result()
    assert result == {"status": "failed", "reason": "stage 13 needs fields.source"}
    assert [a.action["type"] for _, a in fakes.acted] == ["add_timeline_note"]
    assert fakes.action_steps() == [(0, "done"), (1, "failed")]
    assert fakes.steps[1].detail == "stage 13 needs fields.source"
    assert fakes.run_status() == "failed"


async def test_an_action_nobody_can_do_fails_without_being_tried(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeAutomation(
        delayed(
            timedelta(0), {"type": "notify", "title": "n", "error": "nobody has the role lawyer"}
        )
    )
    async for _ in running(env, task_queue, fakes):
        result = await (await start(env, task_queue)).result()
    assert result["reason"] == "nobody has the role lawyer" and fakes.acted == []


async def test_a_task_made_to_close_on_leave_is_closed_when_the_deal_moves_on(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    task = {"type": "create_task", "title": "Meet", "assignee_id": "8", "close_on_leave": True}
    fakes = FakeAutomation(delayed(timedelta(0), task))
    async for _ in running(env, task_queue, fakes):
        handle = await start(env, task_queue)
        await eventually(lambda: fakes.acted, "the task")
        await env.sleep(timedelta(days=3))
        assert fakes.cancelled_tasks == []
        await handle.signal(DEAL_MOVED_SIGNAL, DealMoved(STAGE, "12"))
        assert await handle.result() == {"status": "done"}
    assert fakes.cancelled_tasks == [f"t-{handle.id}/0"]


async def test_a_condition_that_does_not_hold_or_the_loop_bound_runs_nothing(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    for status in ("skipped", "loop_bound"):
        reason = "loop bound hit" if status == "loop_bound" else "fields.has_spec is empty"
        fakes = FakeAutomation(
            lambda _, s=status, r=reason: {"fires": False, "status": s, "reason": r, "actions": []}
        )
        async for _ in running(env, task_queue, fakes):
            result = await (await start(env, task_queue)).result()
        assert result == {"status": status, "reason": reason}
        assert fakes.acted == [] and fakes.steps == []


async def test_the_workflow_id_names_the_deal_the_rule_and_the_event() -> None:
    assert workflow_id("42", "5", "e-1") == "deal-42/automation/5/e-1"


async def test_a_redelivered_event_starts_one_run(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    from typing import cast

    from dealflow.deals.v1 import automation_pb2
    from nats.js import JetStreamContext

    from services.common.protoconv import to_struct
    from tests.unit.workflows.test_activities import FakeStub
    from workflows.automation_triggers import DealEvent, Firing, Rule
    from workflows.triggers import Triggers

    fakes = FakeAutomation(delayed(timedelta(0), {"type": "add_timeline_note", "text": "x"}))
    triggers = Triggers(
        js=cast(JetStreamContext, None),
        temporal=env.client,
        deals=cast(Any, None),
        automation=FakeStub(
            PlanRun=automation_pb2.RunPlan(plan=to_struct({"fires": True, "actions": []}))
        ),
        task_queue=task_queue,
    )
    event = DealEvent("e-" + uuid.uuid4().hex, "deals.deal.created", "42", "3", "11", "8")
    firing = Firing(Rule("5", "3", 1, {"event": "created"}), "created")
    run = triggers._input(event, firing)
    async for _ in running(env, task_queue, fakes):
        await triggers._start(event, firing, run)
        handle = env.client.get_workflow_handle(workflow_id("42", "5", event.event_id))
        await handle.result()
        await triggers._start(event, firing, run)  # the same event again, after the run ended
        await triggers._start(event, firing, run)
    assert fakes.plans == 1 and len(fakes.acted) == 1
