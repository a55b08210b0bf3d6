"""The actions of automation runs on leads (CrmService): a task about the lead, a move
within its funnel, fields set, a notification, the lead's conversion into a deal
(`convert_lead`) and its contact's exclusion (`exclude_contact`). Each is idempotent like
the deal's actions: a retry after a lost answer changes nothing twice (a converted lead
answers its deal, a move finds the lead in the stage, an exclusion added again answers
the first)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from dealflow.deals.v1 import crm_pb2, crm_pb2_grpc
from dealflow.notifications.v1 import notifications_pb2, notifications_pb2_grpc

from services.common.protoconv import to_struct, to_timestamp
from workflows.activities.automation_types import ActionInput, ActionResult
from workflows.activities.services import _call

Action = Callable[[ActionInput], Awaitable[ActionResult]]


class LeadActions:
    def __init__(
        self,
        crm: crm_pb2_grpc.CrmServiceStub,
        notifications: notifications_pb2_grpc.NotificationsServiceStub,
        *,
        task_kind: str,
        notify_kind: str,
    ) -> None:
        self._crm, self._notifications = crm, notifications
        self._task_kind, self._notify_kind = task_kind, notify_kind
        self.actions: dict[str, Action] = {
            "create_task": self._create_task,
            "move": self._move,
            "set_fields": self._set_fields,
            "notify": self._notify,
            "convert_lead": self._convert,
            "exclude_contact": self._exclude,
        }

    async def lead(self, lead_id: str) -> crm_pb2.Lead:
        return await _call(self._crm.GetLead, crm_pb2.GetLeadRequest(id=lead_id))

    async def _create_task(self, inp: ActionInput) -> ActionResult:
        a, lead = inp.action, await self.lead(inp.lead_id)
        about = f"Lead {lead.id}: {lead.title}"
        description = str(a.get("description", ""))
        request = notifications_pb2.CreateTaskRequest(
            assignee_id=str(a["assignee_id"]),
            title=str(a["title"]),
            description=f"{about}\n\n{description}" if description else about,
            kind=self._task_kind,
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
        target = str(inp.action["stage_id"])
        lead = await self.lead(inp.lead_id)
        if lead.stage_id != target:  # else moved already (a retry after a lost answer)
            request = crm_pb2.MoveLeadRequest(
                id=inp.lead_id, stage_id=target, comment=f"by rule {inp.rule_id}"
            )
            await _call(self._crm.MoveLead, request)
        return ActionResult(f"moved to stage {target}", {"stage_id": target})

    async def _set_fields(self, inp: ActionInput) -> ActionResult:
        fields = dict(inp.action["fields"])
        request = crm_pb2.UpdateLeadRequest(id=inp.lead_id, fields=to_struct(fields))
        await _call(self._crm.UpdateLead, request)
        return ActionResult("set " + ", ".join(sorted(fields)), {"fields": sorted(fields)})

    async def _notify(self, inp: ActionInput) -> ActionResult:
        a, lead = inp.action, await self.lead(inp.lead_id)
        body = str(a.get("body", ""))
        note = await _call(
            self._notifications.CreateNotification,
            notifications_pb2.CreateNotificationRequest(
                user_id=str(a["assignee_id"]),
                kind=self._notify_kind,
                title=str(a["title"]),
                body=f"Lead {lead.id}: {lead.title}" + (f"\n\n{body}" if body else ""),
                idempotency_key=inp.idempotency_key,
            ),
        )
        return ActionResult(f"user {a['assignee_id']} notified", {"notification_id": note.id})

    async def _convert(self, inp: ActionInput) -> ActionResult:
        lead = await self.lead(inp.lead_id)
        if lead.deal_id:  # converted already (by this action before a lost answer, or by hand)
            return ActionResult(f"converted into deal {lead.deal_id}", {"deal_id": lead.deal_id})
        a = inp.action
        reply = await _call(
            self._crm.ConvertLead,
            crm_pb2.ConvertLeadRequest(
                id=inp.lead_id,
                pipeline_id=str(a.get("pipeline_id") or ""),
                stage_id=str(a.get("stage_id") or ""),
            ),
        )
        return ActionResult(f"deal {reply.deal_id} created", {"deal_id": reply.deal_id})

    async def _exclude(self, inp: ActionInput) -> ActionResult:
        lead = await self.lead(inp.lead_id)
        if not lead.contact_id:
            return ActionResult("the lead has no contact to exclude")
        reason = str(inp.action.get("reason") or f"rule {inp.rule_id}: {inp.why}")
        reply = await _call(
            self._crm.ExcludeContact,
            crm_pb2.ExcludeContactRequest(
                contact_id=lead.contact_id, lead_id=inp.lead_id, reason=reason
            ),
        )
        ids = [e.id for e in reply.exclusions]
        return ActionResult(f"contact {lead.contact_id} excluded", {"exclusion_ids": ids})
