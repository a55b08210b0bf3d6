"""Activities of automation runs: plan and record (the deals service's AutomationService)
and run one action of a rule on a deal or, with `lead_id`, on a lead (automation_leads.py).
Every action is idempotent by its key (`<workflow id>/<action index>`): a retry after a
lost answer changes nothing twice.
A domain error (a refused move, a missing field) fails the action at once, non-retryable;
the run records it with the reason."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from dealflow.deals.v1 import (
    automation_pb2,
    automation_pb2_grpc,
    crm_pb2_grpc,
    deals_pb2,
    deals_pb2_grpc,
)
from dealflow.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from services.common.protoconv import from_struct, to_struct, to_timestamp
from workflows.activities.automation_leads import LeadActions
from workflows.activities.automation_types import (
    ActionInput,
    ActionResult,
    LeadStageInput,
    PlanInput,
    ReplanInput,
    StepInput,
)
from workflows.activities.services import _call
from workflows.api import DEFAULT_TASK_QUEUE, TooManyRuns, start_process_once
from workflows.automation_inline import FINAL
from workflows.run_ends import RunEnds

TASK_KIND = "automation.task"
NOTIFY_KIND = "automation.notify"


class AutomationActivities:
    def __init__(
        self,
        automation: automation_pb2_grpc.AutomationServiceStub,
        deals: deals_pb2_grpc.DealsServiceStub,
        notifications: notifications_pb2_grpc.NotificationsServiceStub,
        *,
        task_queue: str = DEFAULT_TASK_QUEUE,
        crm: crm_pb2_grpc.CrmServiceStub | None = None,
        temporal: Client | None = None,
        ends: RunEnds | None = None,
    ) -> None:
        # `temporal`: the client start_process uses outside an activity (a run the triggers
        # run themselves, workflows/automation_inline_runs.py); in one, the activity's.
        # `ends`: told when a run records its end (the triggers wait on it: run_ends.py).
        self._temporal, self._ends = temporal, ends
        self._automation, self._deals = automation, deals
        self._notifications, self._task_queue = notifications, task_queue
        self._leads = (
            None
            if crm is None
            else LeadActions(crm, notifications, task_kind=TASK_KIND, notify_kind=NOTIFY_KIND)
        )
        self._actions: dict[str, Callable[[ActionInput], Awaitable[ActionResult]]] = {
            "create_task": self._create_task,
            "move": self._move,
            "set_fields": self._set_fields,
            "create_deal": self._create_deal,
            "notify": self._notify,
            "start_process": self._start_process,
            "add_timeline_note": self._note,
        }

    def all(self) -> list[Callable[..., Any]]:
        return [self.plan, self.replan, self.record, self.act, self.lead_stage]

    @activity.defn(name="automation_plan")
    async def plan(self, inp: PlanInput) -> dict[str, Any]:
        request = automation_pb2.PlanRunRequest(
            workflow_id=inp.workflow_id,
            deal_id=inp.deal_id,
            rule_id=inp.rule_id,
            rule_version=inp.rule_version,
            event_id=inp.event_id,
            trigger=inp.trigger,
            lead_id=inp.lead_id,
        )
        if inp.lead_id:
            request.deal_id = ""
        return from_struct((await _call(self._automation.PlanRun, request)).plan)

    @activity.defn(name="automation_replan")
    async def replan(self, inp: ReplanInput) -> dict[str, Any]:
        request = automation_pb2.ReplanRunRequest(workflow_id=inp.workflow_id)
        return from_struct((await _call(self._automation.ReplanRun, request)).plan)

    @activity.defn(name="automation_record")
    async def record(self, inp: StepInput) -> None:
        await _call(
            self._automation.RecordStep,
            automation_pb2.RecordStepRequest(
                workflow_id=inp.workflow_id,
                index=inp.index,
                status=inp.status,
                detail=inp.detail,
                run_status=inp.run_status,
                data=to_struct(inp.data),
            ),
        )
        if self._ends is not None and inp.run_status in FINAL:
            self._ends.ended(inp.workflow_id)

    def _lead_actions(self) -> LeadActions:
        if self._leads is None:
            raise ApplicationError("no CrmService to act on leads with", non_retryable=True)
        return self._leads

    @activity.defn(name="automation_lead_stage")
    async def lead_stage(self, inp: LeadStageInput) -> str:
        return str((await self._lead_actions().lead(inp.lead_id)).stage_id)

    @activity.defn(name="automation_act")
    async def act(self, inp: ActionInput) -> ActionResult:
        """Run the action (unless the deal, or the lead, left the run's stage) and record
        its result."""
        if inp.lead_id:
            leads = self._lead_actions()
            if inp.stage_id and (await leads.lead(inp.lead_id)).stage_id != inp.stage_id:
                return ActionResult("the lead left the stage", status="cancelled")
            result = await leads.actions[str(inp.action["type"])](inp)
        else:
            result = await self._deal_action(inp)
        if inp.workflow_id and result.status != "cancelled":
            step = StepInput(
                inp.workflow_id,
                inp.index,
                "done",
                result.detail,
                run_status=inp.run_status,
                data=result.data,
            )
            await self.record(step)
        return result

    async def _deal_action(self, inp: ActionInput) -> ActionResult:
        if inp.stage_id:
            deal = await _call(self._deals.GetDeal, deals_pb2.GetDealRequest(id=inp.deal_id))
            if deal.stage_id != inp.stage_id:
                return ActionResult("the deal left the stage", status="cancelled")
        return await self._actions[str(inp.action["type"])](inp)

    async def _create_task(self, inp: ActionInput) -> ActionResult:
        a = inp.action
        request = notifications_pb2.CreateTaskRequest(
            assignee_id=str(a["assignee_id"]),
            title=str(a["title"]),
            description=str(a.get("description", "")),
            deal_id=inp.deal_id,
            kind=TASK_KIND,
            idempotency_key=inp.idempotency_key,
            checklist=[str(c) for c in a.get("checklist", [])],
            rule_id=inp.rule_id,
        )
        if a.get("deadline"):
            deadline = to_timestamp(datetime.fromisoformat(str(a["deadline"])))
            assert deadline is not None
            request.deadline.CopyFrom(deadline)
        task = await _call(self._notifications.CreateTask, request)
        return ActionResult(f"task {task.id} for user {task.assignee_id}", {"task_id": task.id})

    async def _move(self, inp: ActionInput) -> ActionResult:
        a = inp.action
        target = str(a["stage_id"])
        deal = await _call(self._deals.GetDeal, deals_pb2.GetDealRequest(id=inp.deal_id))
        if deal.stage_id == target:  # moved already (by this action before a lost answer)
            return ActionResult(f"the deal is in stage {target}", {"stage_id": target})
        request = deals_pb2.MoveDealRequest(
            id=inp.deal_id, stage_id=target, comment=f"by rule {inp.rule_id}"
        )
        if a.get("pipeline_id") and str(a["pipeline_id"]) != deal.pipeline_id:
            request.pipeline_id = str(a["pipeline_id"])
        await _call(self._deals.MoveDeal, request)
        return ActionResult(f"moved to stage {target}", {"stage_id": target})

    async def _set_fields(self, inp: ActionInput) -> ActionResult:
        fields = dict(inp.action["fields"])
        request = deals_pb2.UpdateDealRequest(id=inp.deal_id, fields=to_struct(fields))
        await _call(self._deals.UpdateDeal, request)  # fixed values: idempotent by itself
        return ActionResult("set " + ", ".join(sorted(fields)), {"fields": sorted(fields)})

    async def _create_deal(self, inp: ActionInput) -> ActionResult:
        a = inp.action
        reply = await _call(
            self._automation.CreateLinkedDeal,
            automation_pb2.CreateLinkedDealRequest(
                idempotency_key=inp.idempotency_key,
                source_deal_id=inp.deal_id,
                pipeline_id=str(a["pipeline_id"]),
                stage_id=str(a.get("stage_id") or ""),
                title=str(a.get("title") or ""),
                fields=to_struct(dict(a.get("fields") or {})),
            ),
        )
        return ActionResult(f"deal {reply.deal_id} created", {"deal_id": reply.deal_id})

    async def _notify(self, inp: ActionInput) -> ActionResult:
        a = inp.action
        note = await _call(
            self._notifications.CreateNotification,
            notifications_pb2.CreateNotificationRequest(
                user_id=str(a["assignee_id"]),
                kind=NOTIFY_KIND,
                title=str(a["title"]),
                body=str(a.get("body", "")),
                deal_id=inp.deal_id,
                idempotency_key=inp.idempotency_key,
            ),
        )
        return ActionResult(f"user {a['assignee_id']} notified", {"notification_id": note.id})

    async def _start_process(self, inp: ActionInput) -> ActionResult:
        a = inp.action
        process = str(a["process"])
        reason = f"rule {inp.rule_id}: {inp.why}"
        deal = await _call(self._deals.GetDeal, deals_pb2.GetDealRequest(id=inp.deal_id))
        try:
            result = await start_process_once(
                self._temporal if self._temporal is not None else activity.client(),
                process=process,
                params=dict(a.get("params") or {}),
                initiator_id=inp.initiator_id or deal.responsible_id,
                deal_id=inp.deal_id,
                pipeline_id=deal.pipeline_id,
                task_queue=self._task_queue,
                start_key=inp.idempotency_key,
                unless_running=True,
                summary=f"started by {reason}",
            )
        except (ValueError, TooManyRuns) as exc:  # the rule's fault: retrying cannot help
            raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True) from exc
        if result.reason == "running":
            return ActionResult(f"{process} already running: {result.workflow_id}")
        await self._timeline(inp, f"{result.workflow_id} started ({reason})", "process")
        return ActionResult(f"{result.workflow_id} started", {"workflow_id": result.workflow_id})

    async def _note(self, inp: ActionInput) -> ActionResult:
        entry_id = await self._timeline(inp, str(inp.action["text"]), "note")
        return ActionResult(f"timeline note {entry_id}", {"entry_id": entry_id})

    async def _timeline(self, inp: ActionInput, text: str, kind: str) -> str:
        entry = await _call(
            self._deals.AddTimelineEntry,
            deals_pb2.AddTimelineEntryRequest(
                deal_id=inp.deal_id,
                kind=kind,
                text=text,
                data=to_struct({"rule_id": inp.rule_id}),
                idempotency_key=f"automation/{inp.idempotency_key}",
            ),
        )
        return str(entry.id)
