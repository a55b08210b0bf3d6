"""Activities that call the gRPC services on behalf of the processes.

A domain error (bad request, missing record, conflict) cannot be cured by retrying, so it
becomes a non-retryable ApplicationError named after the error; ServiceUnavailable (and any
other fault) propagates and Temporal retries the activity. Calls act as the system (no
actor), except `complete_task`, which acts as the person who answered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from dealflow.deals.v1 import deals_pb2, deals_pb2_grpc
from dealflow.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from google.protobuf import json_format
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.common import grpc_client
from services.common.errors import DomainError, NotFound
from services.common.protoconv import from_struct, to_struct, to_timestamp
from workflows.activities.types import (
    AddTimelineEntryInput,
    CancelTaskInput,
    CompleteTaskInput,
    CreateNotificationInput,
    CreateTaskInput,
    DealInfo,
    FindHeadInput,
    GetDealInput,
    GetPipelineInput,
    GetUserInput,
    ListItemsInput,
    ListValue,
    LookUpListInput,
    NotificationInfo,
    PipelineInfo,
    TaskInfo,
    TimelineEntryInfo,
    UpdateDealFieldsInput,
    UserInfo,
)

Resp = TypeVar("Resp")


def domain_failure(error: DomainError) -> ApplicationError:
    """The ApplicationError a workflow sees for a domain error: type = the error's class."""
    return ApplicationError(error.message, type=type(error).__name__, non_retryable=True)


async def _call(
    method: Callable[..., Awaitable[Resp]], request: Any, *, actor: str | None = None
) -> Resp:
    try:
        return await grpc_client.call(method, request, actor=actor)
    except DomainError as exc:
        raise domain_failure(exc) from exc


def _user(user: Any) -> UserInfo:
    return UserInfo(id=user.id, name=user.name, email=user.email, department_id=user.department_id)


def _task(task: Any) -> TaskInfo:
    return TaskInfo(
        id=task.id, status=task.status, assignee_id=task.assignee_id, outcome=task.outcome
    )


def _completed(task: notifications_pb2.Task) -> TaskInfo:
    """A completed task, carrying all of it (see TaskInfo.task)."""
    info = _task(task)
    info.task = json_format.MessageToDict(task, preserving_proto_field_name=True)
    return info


class ServiceActivities:
    """Activities over the deals and notifications gRPC stubs."""

    def __init__(
        self,
        deals: deals_pb2_grpc.DealsServiceStub,
        notifications: notifications_pb2_grpc.NotificationsServiceStub,
    ) -> None:
        self._deals = deals
        self._notifications = notifications

    def all(self) -> list[Callable[..., Any]]:
        """Every activity of this class, for the worker to register."""
        return [
            self.get_deal,
            self.get_pipeline,
            self.find_head,
            self.get_user,
            self.create_task,
            self.complete_task,
            self.cancel_task,
            self.create_notification,
            self.add_timeline_entry,
            self.update_deal_fields,
            self.look_up_list,
            self.list_items,
        ]

    # ---- deals: reads ----
    @activity.defn(name="get_deal")
    async def get_deal(self, inp: GetDealInput) -> DealInfo:
        deal = await _call(self._deals.GetDeal, deals_pb2.GetDealRequest(id=inp.deal_id))
        return DealInfo(
            id=deal.id,
            pipeline_id=deal.pipeline_id,
            stage_id=deal.stage_id,
            title=deal.title,
            responsible_id=deal.responsible_id,
            fields=from_struct(deal.fields),
        )

    @activity.defn(name="get_pipeline")
    async def get_pipeline(self, inp: GetPipelineInput) -> PipelineInfo:
        pipeline = await _call(
            self._deals.GetPipeline, deals_pb2.GetPipelineRequest(id=inp.pipeline_id)
        )
        return PipelineInfo(
            id=pipeline.id, name=pipeline.name, field_codes=[f.code for f in pipeline.fields]
        )

    @activity.defn(name="list_items")
    async def list_items(self, inp: ListItemsInput) -> list[dict[str, Any]]:
        """Every row of an admin list (its values, with the row's `id`)."""
        try:
            return [row async for row in self._list_rows(inp.code)]
        except DomainError as exc:
            raise domain_failure(exc) from exc

    async def _list_rows(self, code: str) -> AsyncIterator[dict[str, Any]]:
        """The rows of admin list `code`, page by page (its values, with the row's `id`)."""
        cursor = ""
        while True:
            page = await grpc_client.call(
                self._deals.ListListItems,
                deals_pb2.ListListItemsRequest(code=code, cursor=cursor, limit=200),
            )
            for item in page.items:
                yield {**from_struct(item.values), "id": item.id}
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    @activity.defn(name="find_head")
    async def find_head(self, inp: FindHeadInput) -> UserInfo:
        head = await _call(self._deals.FindHead, deals_pb2.FindHeadRequest(user_id=inp.user_id))
        return _user(head)

    @activity.defn(name="get_user")
    async def get_user(self, inp: GetUserInput) -> UserInfo:
        return _user(await _call(self._deals.GetUser, deals_pb2.GetUserRequest(id=inp.user_id)))

    @activity.defn(name="look_up_list")
    async def look_up_list(self, inp: LookUpListInput) -> ListValue:
        """A cell of an admin list, read when the step starts (so a changed list takes
        effect for running processes too)."""
        try:
            async for values in self._list_rows(inp.list_code):
                if str(values.get(inp.key_column, "")).strip() == inp.key.strip():
                    found = values.get(inp.value_column)
                    return ListValue("" if found in (None, "") else str(found))
        except NotFound:  # the admins can create it: the process asks them to
            return ListValue(list_missing=True)
        except DomainError as exc:
            raise domain_failure(exc) from exc
        return ListValue()

    # ---- deals: changes ----
    @activity.defn(name="add_timeline_entry")
    async def add_timeline_entry(self, inp: AddTimelineEntryInput) -> TimelineEntryInfo:
        entry = await _call(
            self._deals.AddTimelineEntry,
            deals_pb2.AddTimelineEntryRequest(
                deal_id=inp.deal_id,
                kind=inp.kind,
                text=inp.text,
                data=to_struct(inp.data),
                idempotency_key=inp.idempotency_key,
            ),
        )
        return TimelineEntryInfo(id=entry.id)

    @activity.defn(name="update_deal_fields")
    async def update_deal_fields(self, inp: UpdateDealFieldsInput) -> None:
        # Setting custom fields to fixed values is idempotent by itself: no key needed.
        await _call(
            self._deals.UpdateDeal,
            deals_pb2.UpdateDealRequest(id=inp.deal_id, fields=to_struct(inp.fields)),
        )

    # ---- notifications ----
    @activity.defn(name="create_task")
    async def create_task(self, inp: CreateTaskInput) -> TaskInfo:
        request = notifications_pb2.CreateTaskRequest(
            assignee_id=inp.assignee_id,
            watcher_ids=inp.watcher_ids,
            title=inp.title,
            description=inp.description,
            deal_id=inp.deal_id,
            outcomes=inp.outcomes,
            workflow_id=inp.workflow_id,
            kind=inp.kind,
            idempotency_key=inp.idempotency_key,
            answer_fields=[
                notifications_pb2.AnswerField(
                    name=f.name,
                    type=f.type,
                    required=f.required,
                    options=f.options,
                    required_for=f.required_for,
                    label=f.label,
                )
                for f in inp.answer_fields
            ],
            comment_outcomes=inp.comment_outcomes,
        )
        deadline = to_timestamp(inp.deadline)
        if deadline is not None:
            request.deadline.CopyFrom(deadline)
        return _task(await _call(self._notifications.CreateTask, request))

    @activity.defn(name="complete_task")
    async def complete_task(self, inp: CompleteTaskInput) -> TaskInfo:
        request = notifications_pb2.CompleteTaskRequest(
            id=inp.task_id,
            outcome=inp.outcome,
            result=to_struct(inp.result),
            completed_by=inp.completed_by,
        )
        try:
            task = await grpc_client.call(
                self._notifications.CompleteTask, request, actor=inp.completed_by
            )
        except NotFound as exc:
            raise domain_failure(exc) from exc
        except DomainError as exc:
            # A retry after a lost response finds the task already completed by us: done.
            current = await _call(
                self._notifications.GetTask, notifications_pb2.GetTaskRequest(id=inp.task_id)
            )
            if current.status == "completed" and current.outcome == inp.outcome:
                return _completed(current)
            raise domain_failure(exc) from exc
        return _completed(task)

    @activity.defn(name="cancel_task")
    async def cancel_task(self, inp: CancelTaskInput) -> TaskInfo:
        request = notifications_pb2.CancelTaskRequest(id=inp.task_id, reason=inp.reason)
        try:
            task = await grpc_client.call(self._notifications.CancelTask, request)
        except NotFound as exc:
            raise domain_failure(exc) from exc
        except DomainError as exc:
            # Already closed (by a retry of ours, or answered meanwhile): nothing left to do.
            current = await _call(
                self._notifications.GetTask, notifications_pb2.GetTaskRequest(id=inp.task_id)
            )
            if current.status != "open":
                return _task(current)
            raise domain_failure(exc) from exc
        return _task(task)

    @activity.defn(name="create_notification")
    async def create_notification(self, inp: CreateNotificationInput) -> NotificationInfo:
        note = await _call(
            self._notifications.CreateNotification,
            notifications_pb2.CreateNotificationRequest(
                user_id=inp.user_id,
                kind=inp.kind,
                title=inp.title,
                body=inp.body,
                deal_id=inp.deal_id,
                idempotency_key=inp.idempotency_key,
            ),
        )
        return NotificationInfo(id=note.id)
