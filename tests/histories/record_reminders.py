"""Record histories of reminder_plan and leadership_alerts for the replay test, so that a
change of either cannot break the plans and the alerts running now.

    .venv/bin/python -m tests.histories.record_reminders

Writes next to this file: `reminder_plan_continued.json` (a plan's first run, ending in
continue-as-new after its rounds), `reminder_plan_stopped.json` (a reminder, a new
frequency, a logged call, then the plan stopped) and `leadership_alerts_continued.json`
(three weeks of checks and one asked for, ending in continue-as-new).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.deals.domain.reminder_plans import Frequency
from tests.unit.workflows.fakes import eventually, start_env
from tests.unit.workflows.reminder_fakes import FakeAlerts, FakePlan
from workflows.activities.reminder_types import (
    CHECK_NOW_SIGNAL,
    PLAN_CHANGED_SIGNAL,
    AlertsInput,
    PlanInput,
)
from workflows.leadership_alerts import LeadershipAlerts
from workflows.reminder_plan import ReminderPlanWorkflow

HERE = Path(__file__).parent


async def _first_run(env: WorkflowEnvironment, workflow_id: str, run_id: str) -> WorkflowHistory:
    return await env.client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()


async def continued(env: WorkflowEnvironment) -> WorkflowHistory:
    queue = f"record-{uuid.uuid4().hex}"
    fake = FakePlan(
        started=await env.get_current_time(),
        frequencies={"calls": Frequency(2, "month"), "meetings": Frequency(1, "quarter")},
    )
    async with Worker(
        env.client, task_queue=queue, workflows=[ReminderPlanWorkflow], activities=fake.activities()
    ):
        handle = await env.client.start_workflow(
            ReminderPlanWorkflow.run, PlanInput("5"), id="reminder-plan/5", task_queue=queue
        )
        await env.sleep(timedelta(days=365))
        await eventually(lambda: len(fake.made) >= 20, "a run's rounds")
        history = await _first_run(env, handle.id, handle.result_run_id or "")
        await handle.terminate()
    return history


async def stopped(env: WorkflowEnvironment) -> WorkflowHistory:
    queue = f"record-{uuid.uuid4().hex}"
    now = await env.get_current_time()
    fake = FakePlan(started=now, frequencies={"calls": Frequency(1, "month")})
    async with Worker(
        env.client, task_queue=queue, workflows=[ReminderPlanWorkflow], activities=fake.activities()
    ):
        handle = await env.client.start_workflow(
            ReminderPlanWorkflow.run, PlanInput("6"), id="reminder-plan/6", task_queue=queue
        )
        await eventually(lambda: len(fake.made) == 1, "the first reminder")
        fake.frequencies["calls"] = Frequency(4, "month")
        await handle.signal(PLAN_CHANGED_SIGNAL)
        await env.sleep(timedelta(days=8))
        await eventually(lambda: len(fake.made) == 2, "the second reminder")
        fake.last_done["calls"] = await env.get_current_time()
        await handle.signal(PLAN_CHANGED_SIGNAL)
        await asyncio.sleep(0.5)  # a recorder, not a test: real time is fine
        fake.status = "stopped"
        await handle.signal(PLAN_CHANGED_SIGNAL)
        await handle.result()
        return await handle.fetch_history()


async def alerts(env: WorkflowEnvironment) -> WorkflowHistory:
    queue = f"record-{uuid.uuid4().hex}"
    fake = FakeAlerts()
    async with Worker(
        env.client, task_queue=queue, workflows=[LeadershipAlerts], activities=fake.activities()
    ):
        handle = await env.client.start_workflow(
            LeadershipAlerts.run, AlertsInput(), id="leadership-alerts", task_queue=queue
        )
        await handle.signal(CHECK_NOW_SIGNAL, "first_stage")
        await env.sleep(timedelta(days=21))
        await eventually(lambda: len(fake.checks) >= 60, "three weeks of checks")
        history = await _first_run(env, handle.id, handle.result_run_id or "")
        await handle.terminate()
    return history


async def main() -> None:
    env = await start_env()
    try:
        for name, record in (
            ("reminder_plan_continued", continued),
            ("reminder_plan_stopped", stopped),
            ("leadership_alerts_continued", alerts),
        ):
            path = HERE / f"{name}.json"
            path.write_text((await record(env)).to_json())
            print(path)
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
