"""automation_run: one firing of one automation rule on one deal (or one lead), durable and
exact.

Started by the worker's triggers (workflows/triggers.py) once per (event, rule), with the
id `deal-42/automation/<rule id>/<event id>` (a lead's: `lead-7/...`), so a redelivered
event starts nothing. A lead's run is the same run; only the record it reads and acts on
differs (the activities take `lead_id`; the signals are the same). The deals service
plans the run (the condition's result and reason, each action's due time,
assignee and deadline on the company calendar) and records it in the run log; the
workflow itself evaluates nothing. It waits each delay on a durable timer (to the second),
runs the actions in order through activities (idempotency key `<workflow id>/<index>`),
each recording its own result. A delayed action is cancelled when the deal leaves the stage the run
belongs to (signal `deal_moved`; also checked when the timer fires), unless the rule keeps
it; a change of a date field a delay counts from (signal `deal_changed`) reschedules it.
Tasks made with `close_on_leave` are closed when the deal leaves the stage.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.activities import automation_calls as auto
    from workflows.activities import calls
    from workflows.activities.automation_types import (
        DEAL_CHANGED_SIGNAL,
        DEAL_MOVED_SIGNAL,
        WORKFLOW,
        AutomationInput,
        DealChanged,
        DealMoved,
        LeadStageInput,
        PlanInput,
        ReplanInput,
        StepInput,
        action_input,
    )
    from workflows.activities.types import CancelTaskInput, GetDealInput
    from workflows.automation_inline import failed_detail, why_not_inline

LEFT = "cancelled: the deal left the stage"
LEAD_LEFT = "cancelled: the lead left the stage"
_LOOK_AGAIN = timedelta(days=1)  # a long wait stays a short history
# A run started with its plan in the input (the triggers') takes it from there; one with
# nothing to wait for (workflows/automation_inline.py) then runs its actions and records
# them as local activities, the last action's result with the run's end: one workflow task
# in all. Runs started before carry no plan in their (recorded) input and ask for it
# (`automation_plan`), so the input itself tells the paths apart on replay: no
# `workflow.patched`, whose marker comes with an upsert of the TemporalChangeVersion search
# attribute, a visibility write per run.


def workflow_id(deal_id: str, rule_id: str, event_id: str, kind: str = "deal") -> str:
    """The run's id; `deal_id` is the lead's id for `kind` "lead"."""
    return f"{kind}-{deal_id}/automation/{rule_id}/{event_id}"


def _failure(error: ActivityError) -> str:
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.message:
        return cause.message
    return str(cause or error)


# Outside the sandbox: a run is mostly one short workflow task, and a sandboxed instance
# re-imports this module (and compiles it) for every run, most of the worker's CPU per run
# (py-spy, tests/bench/README.md). The run reads no clock, random or I/O but `workflow`'s.
@workflow.defn(name=WORKFLOW, sandboxed=False)
class AutomationRun:
    def __init__(self) -> None:
        self._stage = ""
        self._moved_from: set[str] = set()  # a signal may come before the plan names the stage
        self._replan = False
        self._date_fields: set[str] = set()
        self._lead_id = ""  # a run on a lead
        self._local = False  # its actions and records as local activities

    @property
    def _left(self) -> bool:
        return bool(self._stage) and self._stage in self._moved_from

    @workflow.signal(name=DEAL_MOVED_SIGNAL)
    def deal_moved(self, moved: DealMoved) -> None:
        self._moved_from.add(moved.from_stage_id)

    @workflow.signal(name=DEAL_CHANGED_SIGNAL)
    def deal_changed(self, changed: DealChanged) -> None:
        if self._date_fields & set(changed.fields):
            self._replan = True

    @workflow.run
    async def run(self, inp: AutomationInput) -> dict[str, Any]:
        wid = workflow.info().workflow_id
        self._lead_id = inp.lead_id
        given = inp.plan is not None
        plan = inp.plan if inp.plan is not None else await self._plan(wid, inp)
        if not plan.get("fires"):
            return {"status": plan.get("status", "skipped"), "reason": plan.get("reason", "")}
        self._stage = str(plan.get("stage_id", ""))
        self._date_fields = set(plan.get("date_fields", []))
        keep = bool(plan.get("keep_on_leave"))
        self._local = given and not why_not_inline(plan)
        to_close: list[str] = []
        # A run the triggers handed over begins where they stopped (nothing to wait for
        # before it: such a run has no delay and no task to close on leaving).
        for index in range(inp.first_action, len(plan["actions"])):
            waited, plan = await self._wait(wid, index, plan)
            action = plan["actions"][index]
            check = waited and not keep  # a delayed action runs only while the deal stays
            if check and self._left:
                return await self._cancel(wid, index, plan, to_close)
            if action.get("error"):
                return await self._fail(wid, index, str(action["error"]))
            step = action_input(inp, wid, index, action, self._stage if check else "")
            last = self._local and index == len(plan["actions"]) - 1
            if last:  # its result and the run's end in one record
                step.run_status = "done"
            try:
                result = await auto.run_action(step, local=self._local)
            except ActivityError as exc:
                return await self._fail(wid, index, _failure(exc))
            if result.status == "cancelled":  # a move the signal missed, seen when due
                return await self._cancel(wid, index, plan, to_close)
            if action.get("type") == "create_task" and action.get("close_on_leave"):
                to_close.append(str(result.data["task_id"]))
        if to_close:
            await auto.record_step(StepInput(wid, -1, "waiting", run_status="waiting_leave"))
            while not await self._left_stage(inp.deal_id):
                # The signal wakes it; a daily look covers a move the signal missed.
                try:
                    await workflow.wait_condition(lambda: self._left, timeout=_LOOK_AGAIN)
                except TimeoutError:
                    pass
            await self._close(to_close)
        if not (self._local and len(plan["actions"]) > inp.first_action):
            await auto.record_step(StepInput(wid, -1, "done", run_status="done"), local=self._local)
        return {"status": "done"}

    @staticmethod
    async def _plan(wid: str, inp: AutomationInput) -> dict[str, Any]:
        request = PlanInput(
            wid,
            inp.deal_id,
            inp.rule_id,
            inp.rule_version,
            inp.event_id,
            inp.why,
            lead_id=inp.lead_id,
        )
        return await auto.plan_run(request)

    async def _wait(
        self, wid: str, index: int, plan: dict[str, Any]
    ) -> tuple[bool, dict[str, Any]]:
        """Sleep until the action is due (rescheduled when its date field changes); whether
        there was anything to wait for, and the plan (new after a reschedule)."""
        waited = False
        while True:
            due_text = plan["actions"][index].get("due_at")
            if not due_text:
                return waited, plan
            left = datetime.fromisoformat(due_text) - workflow.now()
            if left <= timedelta(0):
                return waited, plan
            waited = True
            keep = bool(plan.get("keep_on_leave"))
            try:
                await workflow.wait_condition(
                    lambda keep=keep: (self._left and not keep) or self._replan,  # type: ignore[misc]
                    timeout=left,
                )
            except TimeoutError:
                return waited, plan
            if self._left and not keep:
                return waited, plan
            if self._replan:
                self._replan = False
                plan = await auto.replan_run(ReplanInput(wid))

    async def _left_stage(self, deal_id: str) -> bool:
        """Whether the deal is out of the run's stage (the signal, or a look when the
        timer fired: a move the signal missed)."""
        if self._left:
            return True
        if self._lead_id:
            return await auto.lead_stage(LeadStageInput(self._lead_id)) != self._stage
        deal = await calls.get_deal(GetDealInput(deal_id))
        return deal.stage_id != self._stage

    async def _cancel(
        self, wid: str, index: int, plan: dict[str, Any], to_close: list[str]
    ) -> dict[str, Any]:
        left = LEAD_LEFT if self._lead_id else LEFT
        for rest in range(index, len(plan["actions"])):
            await auto.record_step(StepInput(wid, rest, "cancelled", left))
        await self._close(to_close)
        await auto.record_step(StepInput(wid, -1, "cancelled", left, run_status="cancelled"))
        return {"status": "cancelled"}

    async def _fail(self, wid: str, index: int, reason: str) -> dict[str, Any]:
        await auto.record_step(StepInput(wid, index, "failed", reason), local=self._local)
        detail = failed_detail(index, reason)
        failed = StepInput(wid, -1, "failed", detail, run_status="failed")
        await auto.record_step(failed, local=self._local)
        return {"status": "failed", "reason": reason}

    async def _close(self, task_ids: list[str]) -> None:
        record = "lead" if self._lead_id else "deal"
        for task_id in task_ids:
            await calls.cancel_task(CancelTaskInput(task_id, f"the {record} left the stage"))
