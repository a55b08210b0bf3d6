"""automation_run started with its plan (as the triggers start it): a run with nothing to
wait for is one workflow task (no plan asked for, the actions and their records local
activities, the last result recorded with the run's end); failures keep their meaning; a
run that waits takes the plan from its input and runs its actions as activity tasks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests.unit.workflows.automation_fakes import FakeAutomation, plan_of
from tests.unit.workflows.test_automation import run_input, running, start
from workflows.activities.automation_types import AutomationInput

NOTE = {"type": "add_timeline_note", "text": "a"}
MOVE = {"type": "move", "stage_id": 13}


def instant(*actions: dict[str, Any]) -> dict[str, Any]:
    return plan_of(list(actions), delay=None)


def with_plan(plan: dict[str, Any]) -> AutomationInput:
    inp = run_input()
    inp.plan = plan
    return inp


async def event_types(handle: WorkflowHandle[Any, Any]) -> list[int]:
    return [e.event_type for e in (await handle.fetch_history()).events]


def never_planned(_: object) -> dict[str, Any]:
    raise AssertionError("the plan came with the input")


async def test_a_run_with_nothing_to_wait_for_is_one_workflow_task(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeAutomation(never_planned)
    async for _ in running(env, task_queue, fakes):
        handle = await start(env, task_queue, with_plan(instant(NOTE, NOTE)))
        assert await handle.result() == {"status": "done"}
        events = await event_types(handle)
    assert fakes.plans == 0
    assert [a.idempotency_key for _, a in fakes.acted] == [f"{handle.id}/0", f"{handle.id}/1"]
    assert [(s.index, s.status, s.run_status) for s in fakes.steps] == [
        (0, "done", ""),
        (1, "done", "done"),  # the last result and the run's end: one record
    ]
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED not in events
    assert events.count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) == 1
    assert events.count(EventType.EVENT_TYPE_MARKER_RECORDED) == 2  # the two actions


async def test_a_failing_local_action_is_recorded_and_stops_the_rest(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeAutomation(never_planned, fail_types={"move"})
    async for _ in running(env, task_queue, fakes):
        handle = await start(env, task_queue, with_plan(instant(NOTE, MOVE, NOTE)))
        result = await handle.result()
        events = await event_types(handle)
    assert result == {"status": "failed", "reason": "stage 13 needs fields.source"}
    assert [a.action["type"] for _, a in fakes.acted] == ["add_timeline_note"]
    assert fakes.action_steps() == [(0, "done"), (1, "failed")]
    assert fakes.run_status() == "failed"
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED not in events


async def test_a_local_action_that_fails_for_a_while_is_retried(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeAutomation(never_planned, flaky={"move": 1})
    async for _ in running(env, task_queue, fakes):
        handle = await start(env, task_queue, with_plan(instant(MOVE)))
        assert await handle.result() == {"status": "done"}
    assert [a.action["type"] for _, a in fakes.acted] == ["move"]
    assert fakes.flaky == {"move": 0} and fakes.run_status() == "done"


async def test_a_run_that_waits_takes_its_plan_but_runs_activity_tasks(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    now = await env.get_current_time()
    due = (now + timedelta(hours=1)).isoformat()
    fakes = FakeAutomation(never_planned)
    async for _ in running(env, task_queue, fakes):
        handle = await start(env, task_queue, with_plan(plan_of([{**MOVE, "due_at": due}])))
        assert await handle.result() == {"status": "done"}
        events = await event_types(handle)
    assert fakes.plans == 0 and len(fakes.acted) == 1
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED in events
    assert fakes.run_status() == "done"
