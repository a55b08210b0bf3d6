"""reminder_plan and leadership_alerts on Temporal's time-skipping server, activities faked
by name with the real due-time rules (tests/unit/workflows/reminder_fakes.py): reminders on
schedule for two simulated years with every run's history under the stated bound,
continue-as-new, a frequency change and a hand-logged call rescheduling at once, a stop
ending the workflow; the alerts at the digest time and the close of working days only."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.deals.domain.calendar import CompanyCalendar
from services.deals.domain.reminder_plans import Frequency
from tests.unit.workflows.fakes import eventually, start_env
from tests.unit.workflows.reminder_fakes import FakeAlerts, FakePlan, gaps
from workflows.activities.reminder_types import (
    CHECK_NOW_SIGNAL,
    PLAN_CHANGED_SIGNAL,
    AlertsInput,
    PlanInput,
)
from workflows.leadership_alerts import HISTORY_BOUND as ALERTS_BOUND
from workflows.leadership_alerts import LeadershipAlerts
from workflows.reminder_plan import HISTORY_BOUND, ReminderPlanWorkflow

pytestmark = pytest.mark.integration

TWO_YEARS = timedelta(days=730)
SECOND = timedelta(seconds=1)


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await start_env()
    yield environment
    await environment.shutdown()


def plan(now: datetime) -> FakePlan:
    return FakePlan(
        started=now,
        frequencies={
            "calls": Frequency(2, "month"),
            "letters": Frequency(1, "month"),
            "meetings": Frequency(1, "quarter"),
        },
    )


async def start(
    env: WorkflowEnvironment, fake: FakePlan, queue: str
) -> WorkflowHandle[ReminderPlanWorkflow, str]:
    return await env.client.start_workflow(
        ReminderPlanWorkflow.run,
        PlanInput("5"),
        id=f"reminder-plan/{uuid.uuid4().hex}",
        task_queue=queue,
    )


async def runs_of(client: Client, workflow_id: str, first_run: str) -> list[int]:
    """The number of events of each run of the chain, first to last."""
    sizes, run_id = [], first_run
    while run_id:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        events = (await handle.fetch_history()).events
        sizes.append(len(events))
        last = events[-1]
        run_id = ""
        if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    return sizes


async def test_two_simulated_years_of_reminders_keep_every_run_short(
    env: WorkflowEnvironment,
) -> None:
    queue = f"tq-{uuid.uuid4().hex}"
    fake = plan(await env.get_current_time())
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[ReminderPlanWorkflow],
        activities=fake.activities(),
    ):
        handle = await start(env, fake, queue)
        await env.sleep(TWO_YEARS)
        await eventually(lambda: len(fake.of("meetings")) >= 8, "eight quarters of meetings")
        sizes = await runs_of(env.client, handle.id, handle.result_run_id or "")
        await handle.terminate()

    # Each channel at once, then one interval after the last reminder, to the second.
    for channel, count in (("calls", 48), ("letters", 24), ("meetings", 8)):
        times = fake.of(channel)
        assert len(times) in (count, count + 1), (channel, len(times))
        assert times[0] == fake.started
        assert set(gaps(times)) == {fake.frequencies[channel].interval()}, channel
    assert len(sizes) >= 4, sizes  # continued as new, again and again
    assert max(sizes) <= HISTORY_BOUND, sizes
    print("reminder_plan runs over two years, events per run:", sizes)


async def test_a_new_frequency_and_a_logged_call_reschedule_at_once_and_stop_ends(
    env: WorkflowEnvironment,
) -> None:
    queue = f"tq-{uuid.uuid4().hex}"
    now = await env.get_current_time()
    fake = FakePlan(started=now, frequencies={"calls": Frequency(1, "month")})
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[ReminderPlanWorkflow],
        activities=fake.activities(),
    ):
        handle = await start(env, fake, queue)
        await eventually(lambda: len(fake.made) == 1, "the first call at once")
        assert fake.made[0] == ("calls", now)

        # Four a month: the next one is a week after the first, not a month.
        fake.frequencies["calls"] = Frequency(4, "month")
        await handle.signal(PLAN_CHANGED_SIGNAL)
        await env.sleep(Frequency(4, "month").interval() + SECOND)
        await eventually(lambda: len(fake.made) == 2, "the second call")
        assert fake.made[1] == ("calls", now + Frequency(4, "month").interval())

        # A call logged by hand three days later restarts the clock from it.
        logged = fake.made[1][1] + timedelta(days=3)
        await env.sleep(timedelta(days=3))
        fake.last_done["calls"] = logged
        await handle.signal(PLAN_CHANGED_SIGNAL)
        week = Frequency(4, "month").interval()
        await env.sleep(week - timedelta(days=2))  # past where the old clock was due
        assert len(fake.made) == 2  # not a week after the reminder any more
        await env.sleep(logged + week + SECOND - await env.get_current_time())
        await eventually(lambda: len(fake.made) == 3, "the call a week after the logged one")
        assert fake.made[2] == ("calls", logged + week)

        fake.status = "stopped"
        await handle.signal(PLAN_CHANGED_SIGNAL)
        assert await handle.result() == "stopped"


async def test_alerts_run_at_the_digest_time_and_the_close_of_working_days(
    env: WorkflowEnvironment,
) -> None:
    queue = f"tq-{uuid.uuid4().hex}"
    zone = "Europe/Moscow"
    calendar = CompanyCalendar(timezone=zone, work_end="18:00")
    fake = FakeAlerts(calendar=calendar, digest_at="09:30")
    async with Worker(
        env.client, task_queue=queue, workflows=[LeadershipAlerts], activities=fake.activities()
    ):
        handle = await env.client.start_workflow(
            LeadershipAlerts.run, AlertsInput(), id=f"alerts-{uuid.uuid4().hex}", task_queue=queue
        )
        await env.sleep(timedelta(days=14))
        await eventually(lambda: len(fake.checks) >= 40, "two weeks of checks")
        await handle.signal(CHECK_NOW_SIGNAL, "first_stage")
        await eventually(lambda: len(fake.checks) >= 41, "the check asked for")
        assert fake.checks[-1][0] == "first_stage"
        sizes = await runs_of(env.client, handle.id, handle.result_run_id or "")
        await handle.terminate()

    local = [(c, at.astimezone(ZoneInfo(zone))) for c, at in fake.checks[:-1]]
    assert {at.isoweekday() for _, at in local} <= {1, 2, 3, 4, 5}
    assert {(c, at.strftime("%H:%M")) for c, at in local} == {
        ("digest", "09:30"),
        ("unplanned", "09:30"),
        ("first_stage", "18:00"),
        ("unplanned", "18:00"),
    }
    assert len([c for c, _ in local if c == "digest"]) == 10  # two weeks of working days
    assert len(sizes) >= 2 and max(sizes) <= ALERTS_BOUND, sizes


async def test_a_digest_at_the_close_of_day_runs_both_checks(env: WorkflowEnvironment) -> None:
    queue = f"tq-{uuid.uuid4().hex}"
    fake = FakeAlerts(digest_at="18:00")  # the calendar's work_end too
    async with Worker(
        env.client, task_queue=queue, workflows=[LeadershipAlerts], activities=fake.activities()
    ):
        handle = await env.client.start_workflow(
            LeadershipAlerts.run, AlertsInput(), id=f"alerts-{uuid.uuid4().hex}", task_queue=queue
        )
        await env.sleep(timedelta(days=7))
        await eventually(lambda: len(fake.checks) >= 15, "a week of checks")
        await handle.terminate()
    assert {c for c, _ in fake.checks} == {"digest", "unplanned", "first_stage"}
    per_day = [c for c, _ in fake.checks[:3]]
    assert per_day == ["digest", "unplanned", "first_stage"]  # one round, each check once
