"""Record histories of automation_run for the replay test, so that a change of the
workflow cannot break rules that are waiting now.

    .venv/bin/python -m tests.histories.record_automation [scenario ...]

Writes `automation_run_<scenario>.json` next to this file: a task closed on leaving and a
move seven days later (done), a delayed move cancelled by leaving the stage, a delay
rescheduled by a changed date field, a failing action, on a lead (`lead_...`) the first
one with the move seen by looking at the lead, and a cancelled one, and a run the triggers
began and handed over at its second action (`handed_over`).
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.workflows.automation_fakes import STAGE, FakeAutomation, plan_of
from tests.unit.workflows.fakes import eventually, start_env
from workflows.activities.automation_types import (
    DEAL_CHANGED_SIGNAL,
    DEAL_MOVED_SIGNAL,
    AutomationInput,
    DealChanged,
    DealMoved,
)
from workflows.automation import AutomationRun, workflow_id

HERE = Path(__file__).parent
WEEK = timedelta(days=7)
Drive = Callable[[WorkflowHandle[Any, Any], FakeAutomation, WorkflowEnvironment], Awaitable[None]]


def _plan(now: datetime) -> dict[str, Any]:
    task = {"type": "create_task", "title": "Meet", "assignee_id": "8", "close_on_leave": True}
    return plan_of(
        [
            {**task, "due_at": now.isoformat()},
            {"type": "move", "stage_id": 13, "due_at": (now + WEEK).isoformat()},
        ],
        date_fields=["deadline"],
    )


def _later(now: datetime) -> dict[str, Any]:
    plan = _plan(now)
    plan["actions"][1]["due_at"] = (now + 2 * WEEK).isoformat()
    return plan


async def _timer_set(fakes: FakeAutomation) -> None:
    """Until the task is recorded and the run waits on the move's timer."""
    await eventually(lambda: len(fakes.steps) == 1, "the task recorded")
    await asyncio.sleep(0.5)


async def _done(
    handle: WorkflowHandle[Any, Any], fakes: FakeAutomation, env: WorkflowEnvironment
) -> None:
    await _timer_set(fakes)
    await env.sleep(WEEK + timedelta(seconds=1))
    await eventually(lambda: len(fakes.acted) == 2, "the move")
    await handle.signal(DEAL_MOVED_SIGNAL, DealMoved(STAGE, "13"))


async def _cancelled(
    handle: WorkflowHandle[Any, Any], fakes: FakeAutomation, env: WorkflowEnvironment
) -> None:
    await eventually(lambda: fakes.acted, "the task")
    await handle.signal(DEAL_MOVED_SIGNAL, DealMoved(STAGE, "12"))


async def _rescheduled(
    handle: WorkflowHandle[Any, Any], fakes: FakeAutomation, env: WorkflowEnvironment
) -> None:
    await _timer_set(fakes)
    await handle.signal(DEAL_CHANGED_SIGNAL, DealChanged(["deadline"]))
    await asyncio.sleep(0.5)  # the replan (a recorder, not a test: real time is fine)
    await env.sleep(2 * WEEK + timedelta(seconds=1))
    await eventually(lambda: len(fakes.acted) == 2, "the move")
    await handle.signal(DEAL_MOVED_SIGNAL, DealMoved(STAGE, "13"))


async def _failed(
    handle: WorkflowHandle[Any, Any], fakes: FakeAutomation, env: WorkflowEnvironment
) -> None:
    return None


async def _lead_done(
    handle: WorkflowHandle[Any, Any], fakes: FakeAutomation, env: WorkflowEnvironment
) -> None:
    await _timer_set(fakes)
    await env.sleep(WEEK + timedelta(seconds=1))
    await eventually(lambda: len(fakes.acted) == 2, "the move")
    await asyncio.sleep(0.5)  # the run looks at the lead (still there), then waits a day
    fakes.stage_id = "13"  # moved on; no signal: the daily look sees it
    await env.sleep(timedelta(days=1, seconds=1))


def _instant(now: datetime) -> dict[str, Any]:
    """A run with nothing to wait for (two notes), as the triggers hand it over."""
    notes = [{"type": "add_timeline_note", "text": t, "due_at": now.isoformat()} for t in "ab"]
    return plan_of(notes, delay=None)


SCENARIOS: dict[str, tuple[Drive, dict[str, Any]]] = {
    "done": (_done, {}),
    "cancelled": (_cancelled, {}),
    "rescheduled": (_rescheduled, {"replanner": _later}),
    "failed": (_failed, {"fail_types": {"move"}}),
    "lead_done": (_lead_done, {}),
    "lead_cancelled": (_cancelled, {}),
    # begun by the triggers, handed over at its second action (the first one done)
    "handed_over": (_failed, {"planner": _instant}),
    # started by the triggers with its plan, nothing to wait for: one workflow task
    "one_task": (_failed, {"planner": _instant}),
}


async def record(env: WorkflowEnvironment, name: str) -> Path:
    drive, more = SCENARIOS[name]
    fakes = FakeAutomation(**{"planner": _plan, **more})
    task_queue = f"record-{uuid.uuid4().hex}"
    async with Worker(
        env.client, task_queue=task_queue, workflows=[AutomationRun], activities=fakes.activities()
    ):
        event = f"event-{name}"
        if name.startswith("lead_"):
            inp = AutomationInput("", "3", "5", 1, event, 'enter "Discuss"', "8", lead_id="7")
            wid = workflow_id("7", "5", event, "lead")
        else:
            inp = AutomationInput("42", "3", "5", 1, event, 'enter "Collect"', "8")
            wid = workflow_id("42", "5", event)
        if name == "handed_over":
            inp.first_action = 1
        if name == "one_task":
            inp.plan = _instant(await env.get_current_time())
        handle = await env.client.start_workflow(
            AutomationRun.run, inp, id=wid, task_queue=task_queue
        )
        await drive(handle, fakes, env)
        await handle.result()
        history = await handle.fetch_history()
    path = HERE / f"automation_run_{name}.json"
    path.write_text(history.to_json())
    return path


async def main(names: list[str]) -> None:
    env = await start_env()
    try:
        for name in names or SCENARIOS:
            print(await record(env, name))
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
