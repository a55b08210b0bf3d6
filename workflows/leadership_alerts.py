"""leadership_alerts: the one workflow (id `leadership-alerts`, started by the worker) that
runs the leadership alerts (SN-9) on the company calendar:

- at the digest time (local, WORKER_ALERTS_DIGEST_AT, on working days): the heads' digest
  of clients to check with their managers, and the check for open deals with no planned
  next activity (the manager hears; past the grace period, the head);
- at the close of the working day (the calendar's `work_end`, on working days): the
  first-stage check (what is left goes to the heads) and the no-next-activity check again.

The deals service says when each is next due (services/deals/domain/alerts.py) and what
each check owes; an activity sends the notifications, each with its own key, so a round
run twice notifies nobody twice. An operator (or a test) asks for a check at once with the
`check_now` signal (`POST /api/v1/alerts/checks`). Continued as new every ROUNDS_PER_RUN
rounds (two a working day), so a run's history stays under HISTORY_BOUND events.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.activities.reminder_types import (
        ALERTS_WORKFLOW,
        CHECK_NOW_SIGNAL,
        CHECKS,
        AlertCheckInput,
        AlertCheckResult,
        AlertsInput,
        AlertTimes,
        AlertTimesInput,
    )
    from workflows.activities.retry import call

# A round costs about 23 events (an alert_times and two checks, a timer, their workflow
# tasks): 20 rounds, ten working days, stay under the bound.
ROUNDS_PER_RUN = 20
HISTORY_BOUND = 500
AT_DIGEST = ("digest", "unplanned")
AT_END_OF_DAY = ("first_stage", "unplanned")


@workflow.defn(name=ALERTS_WORKFLOW)
class LeadershipAlerts:
    def __init__(self) -> None:
        self._asked: list[str] = []
        self._sent = 0

    @workflow.signal(name=CHECK_NOW_SIGNAL)
    def check_now(self, check: str) -> None:
        """Run one check (digest | unplanned | first_stage) at once."""
        if check in CHECKS:
            self._asked.append(check)

    @workflow.query(name="sent")
    def sent(self) -> int:
        return self._sent

    async def _run(self, checks: tuple[str, ...] | list[str]) -> None:
        for check in dict.fromkeys(checks):
            result = await call(
                "run_alert_check", AlertCheckInput(check, workflow.now()), AlertCheckResult
            )
            self._sent += result.sent

    @workflow.run
    async def run(self, inp: AlertsInput) -> None:
        rounds = 0
        while rounds < ROUNDS_PER_RUN:
            times = await call("alert_times", AlertTimesInput(workflow.now()), AlertTimes)
            wake = min(times.digest_at, times.end_of_day)
            try:
                await workflow.wait_condition(
                    lambda: bool(self._asked), timeout=wake - workflow.now()
                )
            except TimeoutError:
                rounds += 1
                due = AT_DIGEST if wake == times.digest_at else ()
                await self._run(due + (AT_END_OF_DAY if wake == times.end_of_day else ()))
                continue
            asked, self._asked = self._asked, []
            rounds += 1
            await self._run(asked)
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(AlertsInput(inp.runs + 1))
