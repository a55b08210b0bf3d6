"""Fake activities of automation runs (registered under the real names): the plan comes
from a function of the (skipped) time the run asked at, every action and step is
recorded with the time it ran at. Shared by the workflow tests and the history recorder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.activities.automation_types import (
    ActionInput,
    ActionResult,
    LeadStageInput,
    PlanInput,
    ReplanInput,
    StepInput,
)
from workflows.activities.types import CancelTaskInput, DealInfo, GetDealInput, TaskInfo

STAGE = "11"
Planner = Callable[[datetime], dict[str, Any]]


def plan_of(actions: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    return {
        "fires": True,
        "status": "scheduled",
        "reason": "fields.source is not empty",
        "stage_id": STAGE,
        "keep_on_leave": False,
        "actions": [{"index": i, **a} for i, a in enumerate(actions)],
        **more,
    }


@dataclass
class FakeAutomation:
    planner: Planner
    replanner: Planner | None = None
    stage_id: str = STAGE  # where get_deal (automation_lead_stage) says the deal (lead) is
    fail_types: set[str] = field(default_factory=set)
    flaky: dict[str, int] = field(default_factory=dict)  # type: retryable failures left
    acted: list[tuple[datetime, ActionInput]] = field(default_factory=list)
    steps: list[StepInput] = field(default_factory=list)
    cancelled_tasks: list[str] = field(default_factory=list)
    plans: int = 0
    planned: list[PlanInput] = field(default_factory=list)
    stage_looks: list[str] = field(default_factory=list)  # lead ids automation_lead_stage saw

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.plan,
            self.replan,
            self.record,
            self.act,
            self.get_deal,
            self.cancel_task,
            self.lead_stage,
        ]

    def action_steps(self) -> list[tuple[int, str]]:
        return [(s.index, s.status) for s in self.steps if s.index >= 0]

    def run_status(self) -> str:
        return [s.run_status for s in self.steps if s.run_status][-1]

    @activity.defn(name="automation_plan")
    async def plan(self, inp: PlanInput) -> dict[str, Any]:
        self.plans += 1
        self.planned.append(inp)
        return self.planner(activity.info().current_attempt_scheduled_time)

    @activity.defn(name="automation_replan")
    async def replan(self, inp: ReplanInput) -> dict[str, Any]:
        assert self.replanner is not None
        return self.replanner(activity.info().current_attempt_scheduled_time)

    @activity.defn(name="automation_record")
    async def record(self, inp: StepInput) -> None:
        self.steps.append(inp)

    @activity.defn(name="automation_act")
    async def act(self, inp: ActionInput) -> ActionResult:
        if inp.stage_id and inp.stage_id != self.stage_id:
            return ActionResult("the deal left the stage", status="cancelled")
        if self.flaky.get(inp.action["type"], 0) > 0:
            self.flaky[inp.action["type"]] -= 1
            raise ApplicationError("the service is not answering", type="Unavailable")
        if inp.action["type"] in self.fail_types:
            raise ApplicationError(
                "stage 13 needs fields.source", type="ValidationFailed", non_retryable=True
            )
        self.acted.append((activity.info().current_attempt_scheduled_time, inp))
        kind = inp.action["type"]
        data = {"task_id": f"t-{inp.idempotency_key}"} if kind == "create_task" else {}
        step = StepInput(inp.workflow_id, inp.index, "done", f"{kind} done", inp.run_status, data)
        self.steps.append(step)
        return ActionResult(f"{kind} done", data)

    @activity.defn(name="get_deal")
    async def get_deal(self, inp: GetDealInput) -> DealInfo:
        return DealInfo(inp.deal_id, "3", self.stage_id, "Pens", "8")

    @activity.defn(name="cancel_task")
    async def cancel_task(self, inp: CancelTaskInput) -> TaskInfo:
        self.cancelled_tasks.append(inp.task_id)
        return TaskInfo(inp.task_id, "cancelled")

    @activity.defn(name="automation_lead_stage")
    async def lead_stage(self, inp: LeadStageInput) -> str:
        self.stage_looks.append(inp.lead_id)
        return self.stage_id
