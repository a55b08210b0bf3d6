"""Tasks: list and read them, and answer one. The answer to a process's task goes to the
workflow waiting on it as the `complete_task` Update, whose validator decides at once."""

from __future__ import annotations

from typing import Annotated, Any

from dealflow.notifications.v1 import notifications_pb2
from fastapi import APIRouter, Query
from google.protobuf import json_format
from temporalio.client import Client

from services.common.errors import FieldProblem
from services.common.protoconv import from_struct, to_struct
from services.gateway.auth import Principal
from services.gateway.deps import CurrentUser, Notifications, TemporalClient
from services.gateway.problems import COMMON_RESPONSES, Problem, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import Page, RecordId, cursor_or_none
from services.gateway.schemas.tasks import TaskComplete, TaskOut
from workflows.api import (
    AnswerRefused,
    AnswerRefusedError,
    ProcessGone,
    TaskAnswer,
    TaskAnswerResult,
    answer_task,
)

router = APIRouter(prefix=API_PREFIX + "/tasks", tags=["tasks"], responses=COMMON_RESPONSES)

_REFUSAL_STATUS = {
    AnswerRefused.WRONG_ACTOR: 403,
    AnswerRefused.TASK_NOT_OPEN: 409,
    AnswerRefused.INVALID_OUTCOME: 422,
    AnswerRefused.INVALID_DATA: 422,
}
_REFUSAL_FIELD = {AnswerRefused.INVALID_OUTCOME: "outcome", AnswerRefused.INVALID_DATA: "data"}


@router.get("", responses=responses(403, 404))
async def list_tasks(
    user: CurrentUser,
    notifications: Notifications,
    assignee: Annotated[
        str | None, Query(pattern=r"^(me|\d+)$", description="`me` or a user id")
    ] = None,
    watching: Annotated[
        str | None,
        Query(pattern=r"^(me|\d+)$", description="`me` or a user id: the tasks they watch"),
    ] = None,
    deal_id: RecordId | None = None,
    status: str = "",
    cursor: str = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[TaskOut]:
    """The caller's own tasks (by default; of any deal), the tasks they watch, another
    user's when the caller sees that user's records, or all tasks of a deal the caller
    sees. The notifications service decides what the caller may list."""
    assignee_id = _user(assignee, user)
    watcher_id = _user(watching, user)
    if not (assignee_id or watcher_id) and deal_id is None:
        assignee_id = str(user.id)
    reply = await notifications.ListTasks(
        notifications_pb2.ListTasksRequest(
            assignee_id=assignee_id,
            watcher_id=watcher_id,
            deal_id=str(deal_id or ""),
            status=status,
            cursor=cursor,
            limit=limit,
        )
    )
    return Page(
        items=[TaskOut.of(t) for t in reply.tasks], next_cursor=cursor_or_none(reply.next_cursor)
    )


def _user(value: str | None, user: Principal) -> str:
    return str(user.id) if value == "me" else (value or "")


@router.get("/{task_id}", responses=responses(404))
async def get_task(task_id: int, notifications: Notifications) -> TaskOut:
    """A task the caller sees (its assignee, a watcher, whoever sees the assignee's records
    or its deal, the substitute of its absent assignee); anyone else gets 404."""
    return TaskOut.of(
        await notifications.GetTask(notifications_pb2.GetTaskRequest(id=str(task_id)))
    )


@router.post("/{task_id}/complete", responses=responses(403, 404, 409))
async def complete_task(
    task_id: int,
    body: TaskComplete,
    user: CurrentUser,
    notifications: Notifications,
    temporal: TemporalClient,
) -> TaskOut:
    """Answer a task with one of its outcomes (and the data the step asks for). The
    assignee answers, or their substitute while they are absent; a watcher only watches."""
    get = notifications_pb2.GetTaskRequest(id=str(task_id))
    check = await notifications.CheckAnswerer(
        notifications_pb2.CheckAnswererRequest(id=str(task_id))
    )
    task = check.task
    if task.workflow_id:
        # The process's validator decides (a step may name more people who answer it).
        stands_in_for = check.stands_in_for
        try:
            result = await _answer_process(
                temporal,
                task.workflow_id,
                str(task_id),
                user,
                body,
                stands_in_for,
                listed_open=task.status == "open",
            )
        except Problem:
            # A retry of an answer that was recorded (its response was lost) is done, not
            # refused: the client learns the outcome it asked for.
            now = await notifications.GetTask(get)
            if not _answered_so(now, user, body):
                raise
            return TaskOut.of(now)
        if result.task is not None:
            # The Update hands back the task as notifications completed it: no second read.
            return TaskOut.of(
                json_format.ParseDict(
                    result.task, notifications_pb2.Task(), ignore_unknown_fields=True
                )
            )
        return TaskOut.of(await notifications.GetTask(get))  # a worker older than the field
    if not check.allowed:
        raise Problem(403, "only the assignee or their substitute may complete this task")
    done = await notifications.CompleteTask(
        notifications_pb2.CompleteTaskRequest(
            id=str(task_id),
            outcome=body.outcome,
            result=to_struct(body.data),
            completed_by=str(user.id),
        )
    )
    return TaskOut.of(done)


def _answered_so(task: Any, user: Principal, body: TaskComplete) -> bool:
    return bool(
        task.status == "completed"
        and task.outcome == body.outcome
        and task.completed_by == str(user.id)
        and from_struct(task.result) == body.data
    )


async def _answer_process(
    temporal: Client,
    workflow_id: str,
    task_id: str,
    user: Principal,
    body: TaskComplete,
    stands_in_for: str,
    *,
    listed_open: bool,
) -> TaskAnswerResult:
    answer = TaskAnswer(
        task_id=task_id,
        actor_id=str(user.id),
        outcome=body.outcome,
        data=body.data,
        stands_in_for=stands_in_for,
    )
    try:
        return await answer_task(
            temporal, workflow_id=workflow_id, answer=answer, listed_open=listed_open
        )
    except AnswerRefusedError as exc:
        raise refusal(exc) from exc
    except ProcessGone as exc:
        raise Problem(409, str(exc)) from exc


def refusal(exc: AnswerRefusedError) -> Problem:
    """The problem answering a refused answer."""
    status = _REFUSAL_STATUS.get(exc.kind, 409)
    field = _REFUSAL_FIELD.get(exc.kind)
    errors = [FieldProblem(field, exc.message)] if field else []
    return Problem(status, exc.message, errors=errors)
