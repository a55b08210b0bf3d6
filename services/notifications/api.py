"""gRPC servicer of the notifications service: proto <-> domain mapping only."""

from __future__ import annotations

from typing import Any

import grpc
from dealflow.notifications.v1 import notifications_pb2 as pb
from dealflow.notifications.v1 import notifications_pb2_grpc as pb_grpc

from services.common.errors import FieldProblem, ValidationFailed
from services.common.grpc_server import actor_id
from services.common.ids import optional_id, parse_id
from services.common.pagination import clamp_limit
from services.common.protoconv import from_struct, from_timestamp, to_struct, to_timestamp
from services.notifications.chat_api import ChatApi
from services.notifications.chat_service import ChatService
from services.notifications.delivery_api import DeliveryApi
from services.notifications.delivery_service import DeliveryService
from services.notifications.domain.answers import AnswerField
from services.notifications.domain.feed import new_notification
from services.notifications.domain.tasks import Task, new_task, parse_status
from services.notifications.feeds_api import register_feeds
from services.notifications.feeds_service import FeedsService
from services.notifications.repository import Notification, TaskFilter
from services.notifications.service import NotificationsService


def task_to_pb(task: Task) -> pb.Task:
    return pb.Task(
        id=str(task.id),
        assignee_id=str(task.assignee_id),
        watcher_ids=[str(w) for w in task.watcher_ids],
        title=task.title,
        description=task.description,
        deadline=to_timestamp(task.deadline),
        deal_id=str(task.deal_id) if task.deal_id else "",
        status=task.status.value,
        outcome=task.outcome or "",
        outcomes=list(task.outcomes),
        workflow_id=task.workflow_id or "",
        result=to_struct(task.result),
        completed_by=str(task.completed_by) if task.completed_by else "",
        created_at=to_timestamp(task.created_at),
        completed_at=to_timestamp(task.completed_at),
        kind=task.kind,
        answer_fields=[answer_field_to_pb(f) for f in task.answer_fields],
        comment_outcomes=list(task.comment_outcomes),
        checklist=list(task.checklist),
        rule_id=task.rule_id or "",
    )


def answer_field_to_pb(f: AnswerField) -> pb.AnswerField:
    return pb.AnswerField(
        name=f.name,
        type=f.type,
        required=f.required,
        options=list(f.options),
        required_for=list(f.required_for),
        label=f.label,
    )


def answer_field_of(msg: pb.AnswerField) -> AnswerField:
    return AnswerField(
        name=msg.name,
        type=msg.type,
        required=msg.required,
        options=tuple(msg.options),
        required_for=tuple(msg.required_for),
        label=msg.label,
    )


def notification_to_pb(n: Notification) -> pb.Notification:
    return pb.Notification(
        id=str(n.id),
        user_id=str(n.user_id),
        kind=n.kind,
        title=n.title,
        body=n.body,
        deal_id=str(n.deal_id) if n.deal_id else "",
        created_at=to_timestamp(n.created_at),
        event_id=n.event_id or "",
    )


def _watchers(values: Any) -> tuple[int, ...]:
    return tuple(parse_id(v, f"watcher_ids[{i}]") for i, v in enumerate(values))


class NotificationsApi(ChatApi, DeliveryApi, pb_grpc.NotificationsServiceServicer):  # type: ignore[misc]
    def __init__(
        self,
        service: NotificationsService,
        chats: ChatService | None = None,
        delivery: DeliveryService | None = None,
    ) -> None:
        self._service = service
        self._chats = chats or ChatService(service.engine, service.people_or_none)
        self._delivery = delivery or DeliveryService(service.engine)

    async def CreateTask(
        self, request: pb.CreateTaskRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.Task:
        new = new_task(
            assignee_id=parse_id(request.assignee_id, "assignee_id"),
            title=request.title,
            description=request.description,
            watcher_ids=_watchers(request.watcher_ids),
            deadline=from_timestamp(request.deadline, present=request.HasField("deadline")),
            deal_id=optional_id(request.deal_id, "deal_id"),
            outcomes=tuple(request.outcomes),
            workflow_id=request.workflow_id,
            kind=request.kind,
            idempotency_key=request.idempotency_key,
            answer_fields=tuple(answer_field_of(f) for f in request.answer_fields),
            comment_outcomes=tuple(request.comment_outcomes),
            checklist=tuple(request.checklist),
            rule_id=request.rule_id,
        )
        task = await self._service.create_task(new, actor=actor_id(context))
        return task_to_pb(task)

    async def GetTask(
        self, request: pb.GetTaskRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.Task:
        task_id = parse_id(request.id, "id")
        return task_to_pb(await self._service.get_task(task_id, actor=actor_id(context)))

    async def CheckAnswerer(
        self, request: pb.CheckAnswererRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.CheckAnswererResponse:
        task, who = await self._service.check_answerer(
            parse_id(request.id, "id"), actor=actor_id(context)
        )
        return pb.CheckAnswererResponse(
            allowed=who.allowed,
            stands_in_for=str(who.stands_in_for or ""),
            task=task_to_pb(task),
        )

    async def ListTasks(
        self, request: pb.ListTasksRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ListTasksResponse:
        where = TaskFilter(
            assignee_id=optional_id(request.assignee_id, "assignee_id"),
            deal_id=optional_id(request.deal_id, "deal_id"),
            status=parse_status(request.status) if request.status else None,
            workflow_id=request.workflow_id or None,
            watcher_id=optional_id(request.watcher_id, "watcher_id"),
        )
        page = await self._service.list_tasks(
            where, actor=actor_id(context), cursor=request.cursor, limit=clamp_limit(request.limit)
        )
        return pb.ListTasksResponse(
            tasks=[task_to_pb(t) for t in page.items], next_cursor=page.next_cursor
        )

    async def CompleteTask(
        self, request: pb.CompleteTaskRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.Task:
        completed_by = optional_id(request.completed_by, "completed_by") or actor_id(context)
        task = await self._service.complete_task(
            parse_id(request.id, "id"),
            outcome=request.outcome,
            result=from_struct(request.result) if request.HasField("result") else None,
            completed_by=completed_by,
        )
        return task_to_pb(task)

    async def CancelTask(
        self, request: pb.CancelTaskRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.Task:
        task = await self._service.cancel_task(
            parse_id(request.id, "id"), reason=request.reason, actor=actor_id(context)
        )
        return task_to_pb(task)

    async def CreateNotification(
        self, request: pb.CreateNotificationRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.Notification:
        new = new_notification(
            user_id=parse_id(request.user_id, "user_id"),
            kind=request.kind,
            title=request.title,
            body=request.body,
            deal_id=optional_id(request.deal_id, "deal_id"),
            idempotency_key=request.idempotency_key,
        )
        return notification_to_pb(await self._service.create_notification(new))

    async def ListNotifications(
        self, request: pb.ListNotificationsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ListNotificationsResponse:
        if not request.user_id:
            raise ValidationFailed(FieldProblem("user_id", "is required"))
        page = await self._service.list_notifications(
            parse_id(request.user_id, "user_id"),
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        return pb.ListNotificationsResponse(
            notifications=[notification_to_pb(n) for n in page.items],
            next_cursor=page.next_cursor,
        )


def register(
    server: grpc.aio.Server,
    service: NotificationsService,
    delivery: DeliveryService | None = None,
) -> list[str]:
    api = NotificationsApi(service, delivery=delivery)
    pb_grpc.add_NotificationsServiceServicer_to_server(api, server)
    return [
        pb.DESCRIPTOR.services_by_name["NotificationsService"].full_name,
        register_feeds(server, FeedsService(service.engine)),
    ]
