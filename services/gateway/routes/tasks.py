"""Tasks: list and read them, and answer one. The answer to a process's task goes to the
workflow waiting on it as the `complete_task` Update, whose validator decides at once."""

from __future__ import annotations

from typing import Annotated, Any

from dealflow.deals.v1 import deals_pb2
from dealflow.notifications.v1 import notifications_pb2
from fastapi import APIRouter, Query
from temporalio.client import Client

from services.common.errors import FieldProblem, NotFound
from services.common.protoconv import from_struct, to_struct
from services.gateway.auth import Principal
from services.gateway.deps import BoundStub, CurrentUser, Deals, Notifications, TemporalClient
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
    deals: Deals,
    assignee: Annotated[
        str | None, Query(pattern=r"^(me|\d+)$", description="`me` or a user id")
    ] = None,
    deal_id: RecordId | None = None,
    status: str = "",
    cursor: str = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[TaskOut]:
    """The caller's own tasks (by default; of any deal), another user's when the caller
    sees that user's records, or all tasks of a deal the caller sees."""
    assignee_id = str(user.id) if assignee == "me" else (assignee or "")
    if not assignee_id and deal_id is None:
        assignee_id = str(user.id)
    mine = assignee_id == str(user.id)
    if assignee_id and not mine and not user.scope.sees(int(assignee_id)):
        raise Problem(403, "you may not see this user's tasks")
    if deal_id is not None and not mine:
        await deals.GetDeal(deals_pb2.GetDealRequest(id=str(deal_id)))  # 404 unless visible
    reply = await notifications.ListTasks(
        notifications_pb2.ListTasksRequest(
            assignee_id=assignee_id,
            deal_id=str(deal_id or ""),
            status=status,
            cursor=cursor,
            limit=limit,
        )
    )
    return Page(
        items=[TaskOut.of(t) for t in reply.tasks], next_cursor=cursor_or_none(reply.next_cursor)
    )


@router.get("/{task_id}", responses=responses(404))
async def get_task(
    task_id: int, user: CurrentUser, notifications: Notifications, deals: Deals
) -> TaskOut:
    task = await notifications.GetTask(notifications_pb2.GetTaskRequest(id=str(task_id)))
    await _require_visible(task, user, deals)
    return TaskOut.of(task)


async def _require_visible(task: Any, user: Principal, deals: BoundStub) -> None:
    """A task is seen by its assignee, by whoever sees the assignee's records, and by
    whoever sees its deal; anyone else is told it does not exist."""
    assignee = int(task.assignee_id) if task.assignee_id else None
    if assignee == user.id or user.scope.sees(assignee):
        return
    if task.deal_id:
        try:
            await deals.GetDeal(deals_pb2.GetDealRequest(id=task.deal_id))
            return
        except NotFound:
            pass
    if assignee is not None and await stands_in_for_user(assignee, user, deals):
        return
    raise Problem(404, f"task {task.id} not found")


async def stands_in_for_user(assignee: int, user: Principal, deals: BoundStub) -> bool:
    """Whether the user acts for the assignee now (the assignee is absent)."""
    stand_in = await deals.FindStandIn(deals_pb2.FindStandInRequest(user_id=str(assignee)))
    return int(stand_in.id) == user.id != assignee


@router.post("/{task_id}/complete", responses=responses(403, 404, 409))
async def complete_task(
    task_id: int,
    body: TaskComplete,
    user: CurrentUser,
    notifications: Notifications,
    deals: Deals,
    temporal: TemporalClient,
) -> TaskOut:
    """Answer a task with one of its outcomes (and the data the step asks for). The
    assignee answers, or their substitute while they are absent."""
    get = notifications_pb2.GetTaskRequest(id=str(task_id))
    task = await notifications.GetTask(get)
    await _require_visible(task, user, deals)
    assignee = int(task.assignee_id) if task.assignee_id else None
    substitute = (
        assignee is not None
        and assignee != user.id
        and await stands_in_for_user(assignee, user, deals)
    )
    if task.workflow_id:
        stands_in_for = task.assignee_id if substitute else ""
        try:
            await _answer_process(
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
        return TaskOut.of(await notifications.GetTask(get))
    if assignee != user.id and not substitute:
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
) -> None:
    answer = TaskAnswer(
        task_id=task_id,
        actor_id=str(user.id),
        outcome=body.outcome,
        data=body.data,
        stands_in_for=stands_in_for,
    )
    try:
        await answer_task(temporal, workflow_id=workflow_id, answer=answer, listed_open=listed_open)
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
