"""reminder_plan: one long-lived workflow per reminder plan (SN-3), id `reminder-plan/<id>`,
that creates each channel's next activity for the responsible when it is due, forever,
until the plan is stopped.

Why one workflow with timers and continue-as-new, not Temporal Schedules: the next due time
is not a fixed calendar spec but depends on the data (the last done activity of the
channel restarts its clock; a new frequency recomputes it at once), so a Schedule would
have to be rewritten after every logged call; a durable timer that a signal interrupts
does this directly, and it runs on the time-skipping test server (Schedules do not).

Each round the workflow asks the deals service for the plan's next due times (the rules
live in services/deals/domain/reminder_plans.py; the workflow computes nothing), waits on a
timer until the earliest, or until the `plan_changed` signal (the plan changed, or an
activity was done on its record: the worker's consumer sends it), and makes the due
reminder (idempotency key `<workflow id>/<channel>/<due time>`). After ROUNDS_PER_RUN
rounds it continues as new, so every run's history stays under HISTORY_BOUND events however
long the plan lives (tests/integration/workflows/test_reminder_plan.py shows two simulated
years). A stopped plan ends the workflow; the consumer starts it again if it is restarted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.activities.reminder_types import (
        PLAN_CHANGED_SIGNAL,
        PLAN_WORKFLOW,
        PlanInput,
        PlanState,
        PlanStateInput,
        ReminderInput,
        ReminderMade,
    )
    from workflows.activities.retry import call

# A round costs about 15 events (three workflow tasks, two activities, one timer), one a
# signal cut short a few more; 20 rounds and the start stay under the bound (measured: 305
# events per run over two simulated years of a plan of 2 calls and a letter a month and a
# meeting a quarter).
ROUNDS_PER_RUN = 20
HISTORY_BOUND = 450
_RETRY_LATER = timedelta(days=1)  # a reminder refused (e.g. the responsible left): again


def earliest(due: dict[str, datetime]) -> tuple[str, datetime] | None:
    """The channel due first (by name when two are due at once)."""
    if not due:
        return None
    channel = min(due, key=lambda c: (due[c], c))
    return channel, due[channel]


@workflow.defn(name=PLAN_WORKFLOW)
class ReminderPlanWorkflow:
    def __init__(self) -> None:
        self._changed = False
        self._made = 0

    @workflow.signal(name=PLAN_CHANGED_SIGNAL)
    def plan_changed(self) -> None:
        """The plan (or its record's activities) changed: read it again now."""
        self._changed = True

    @workflow.query(name="reminders")
    def reminders(self) -> int:
        return self._made

    async def _wait(self, timeout: timedelta | None) -> bool:
        """Wait for a change or the timeout; whether something changed."""
        try:
            await workflow.wait_condition(lambda: self._changed, timeout=timeout)
        except TimeoutError:
            return False
        return True

    @workflow.run
    async def run(self, inp: PlanInput) -> str:
        self._made = inp.reminders
        for _ in range(ROUNDS_PER_RUN):
            self._changed = False
            state = await call("reminder_plan_state", PlanStateInput(inp.plan_id), PlanState)
            if state.status != "active":
                return "stopped"
            due = earliest(state.next_due)
            if due is None:
                await self._wait(None)
                continue
            channel, at = due
            now = workflow.now()
            if at > now and await self._wait(at - now):
                continue
            key = f"{workflow.info().workflow_id}/{channel}/{at.isoformat()}"
            try:
                made = await call(
                    "create_reminder", ReminderInput(inp.plan_id, channel, at, key), ReminderMade
                )
            except ActivityError:
                workflow.logger.warning("reminder refused", extra={"channel": channel})
                await self._wait(_RETRY_LATER)
                continue
            if made.activity_id:
                self._made += 1
            if workflow.info().is_continue_as_new_suggested():
                break
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(PlanInput(inp.plan_id, inp.runs + 1, self._made))
