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
from services.gateway.deps import BoundStub, CurrentUser, KnownTasks, Notifications, TemporalClient
from services.gateway.problems import COMMON_RESPONSES, Problem, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import Page, RecordId, cursor_or_none
from services.gateway.schemas.tasks import TaskComplete, TaskOut
from workflows.api import (
    AnswerRefused,
    AnswerRefusedError,
    ProcessGone,
    TaskAnswer,
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
    known: KnownTasks,
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
    for t in reply.tasks:
        known.remember(t)
    return Page(
        items=[TaskOut.of(t) for t in reply.tasks], next_cursor=cursor_or_none(reply.next_cursor)
    )


def _user(value: str | None, user: Principal) -> str:
    return str(user.id) if value == "me" else (value or "")


@router.get("/{task_id}", responses=responses(404))
async def get_task(task_id: int, notifications: Notifications, known: KnownTasks) -> TaskOut:
    """A task the caller sees (its assignee, a watcher, whoever sees the assignee's records
    or its deal, the substitute of its absent assignee); anyone else gets 404."""
    task = await notifications.GetTask(notifications_pb2.GetTaskRequest(id=str(task_id)))
    known.remember(task)
    return TaskOut.of(task)


@router.post("/{task_id}/complete", responses=responses(403, 404, 409))
async def complete_task(
    task_id: int,
    body: TaskComplete,
    user: CurrentUser,
    notifications: Notifications,
    temporal: TemporalClient,
    known: KnownTasks,
) -> TaskOut:
    """Answer a task with one of its outcomes (and the data the step asks for). The
    assignee answers, or their substitute while they are absent; a watcher only watches."""
    owner = known.of(task_id)
    if owner is not None and owner.assignee_id == str(user.id):
        # Its assignee sees the task and answers for themself: what `CheckAnswerer` would
        # say. What it would add (whether the task is open, the run still there) only
        # matters when the answer is refused for it; then the checked path decides.
        done = await _answer(
            temporal, notifications, owner.workflow_id, task_id, user, body, listed_open=None
        )
        if done is not None:
            return done
    check = await notifications.CheckAnswerer(
        notifications_pb2.CheckAnswererRequest(id=str(task_id))
    )
    task = check.task
    known.remember(task)
    if not check.allowed and not task.workflow_id:
        # A process's validator decides for its own tasks (a step may name more people
        # who answer it).
        raise Problem(403, "only the assignee or their substitute may complete this task")
    done = await _answer(
        temporal,
        notifications,
        task.workflow_id,
        task_id,
        user,
        body,
        stands_in_for=check.stands_in_for,
        listed_open=task.status == "open",
    )
    assert done is not None  # only an unchecked answer hands the decision back
    return done


# Refusals for what the gateway reads of a task before an answer (whether it is open, the
# run still there): an answer sent without that read is checked and sent again.
_NEEDS_READ = (AnswerRefused.TASK_NOT_OPEN, AnswerRefused.WRONG_ACTOR)


async def _answer(
    temporal: Client,
    notifications: BoundStub,
    workflow_id: str,
    task_id: int,
    user: Principal,
    body: TaskComplete,
    *,
    stands_in_for: str = "",
    listed_open: bool | None,
) -> TaskOut | None:
    """The answer recorded by the process waiting on the task (or, for a task no process
    waits on, by notifications): the completed task. `listed_open` is whether the task was
    open when the gateway read it, None when it did not: then an answer refused for what
    that read tells is None, for the caller to read the task and try again."""
    if not workflow_id:
        done = await notifications.CompleteTask(
            notifications_pb2.CompleteTaskRequest(
                id=str(task_id),
                outcome=body.outcome,
                result=to_struct(body.data),
                completed_by=str(user.id),
            )
        )
        return TaskOut.of(done)
    answer = TaskAnswer(
        task_id=str(task_id),
        actor_id=str(user.id),
        outcome=body.outcome,
        data=body.data,
        stands_in_for=stands_in_for,
    )
    get = notifications_pb2.GetTaskRequest(id=str(task_id))
    try:
        result = await answer_task(
            temporal, workflow_id=workflow_id, answer=answer, listed_open=bool(listed_open)
        )
    except (AnswerRefusedError, ProcessGone) as exc:
        unread = listed_open is None
        if unread and (isinstance(exc, ProcessGone) or exc.kind in _NEEDS_READ):
            return None
        # A retry of an answer that was recorded (its response was lost) is done, not
        # refused: the client learns the outcome it asked for.
        now = await notifications.GetTask(get)
        if not _answered_so(now, user, body):
            raise _problem(exc) from exc
        return TaskOut.of(now)
    if result.task is not None:
        # The Update hands back the task as notifications completed it: no second read.
        return TaskOut.of(
            json_format.ParseDict(result.task, notifications_pb2.Task(), ignore_unknown_fields=True)
        )
    return TaskOut.of(await notifications.GetTask(get))  # a worker older than the field


def _problem(exc: AnswerRefusedError | ProcessGone) -> Problem:
    if isinstance(exc, ProcessGone):
        return Problem(409, str(exc))
    return refusal(exc)


def _answered_so(task: Any, user: Principal, body: TaskComplete) -> bool:
    return bool(
        task.status == "completed"
        and task.outcome == body.outcome
        and task.completed_by == str(user.id)
        and from_struct(task.result) == body.data
    )


def refusal(exc: AnswerRefusedError) -> Problem:
    """The problem answering a refused answer."""
    status = _REFUSAL_STATUS.get(exc.kind, 409)
    field = _REFUSAL_FIELD.get(exc.kind)
    errors = [FieldProblem(field, exc.message)] if field else []
    return Problem(status, exc.message, errors=errors)
