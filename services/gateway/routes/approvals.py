"""Approval requests: what waits for me, one request with every round and decision, and a
decision. A decision is the answer to the approver's task: it goes to the chain through
the same path as `POST /tasks/{id}/complete` (the chain's validator decides at once)."""

from __future__ import annotations

from typing import Annotated, Any

from dealflow.approvals.v1 import approvals_pb2 as apb
from dealflow.notifications.v1 import notifications_pb2
from fastapi import APIRouter, Query

from services.common.errors import NotFound
from services.gateway.auth import Principal
from services.gateway.deps import (
    Approvals,
    BoundStub,
    CurrentUser,
    KnownTasks,
    Notifications,
    TemporalClient,
)
from services.gateway.problems import COMMON_RESPONSES, Problem, responses
from services.gateway.routes import API_PREFIX
from services.gateway.routes.tasks import complete_task
from services.gateway.schemas.approvals import ApprovalOut, DecisionIn
from services.gateway.schemas.common import Page, RecordId, cursor_or_none
from services.gateway.schemas.tasks import TaskComplete

router = APIRouter(prefix=API_PREFIX + "/approvals", tags=["approvals"], responses=COMMON_RESPONSES)


@router.get("")
async def list_approvals(
    user: CurrentUser,
    approvals: Approvals,
    assignee: Annotated[
        str | None, Query(pattern=r"^(me|\d+)$", description="`me` or a user id")
    ] = None,
    deal_id: RecordId | None = None,
    status: str = "",
    cursor: str = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ApprovalOut]:
    """Requests waiting for a person's decision (`assignee=me`), or of a deal."""
    assignee_id = str(user.id) if assignee == "me" else (assignee or "")
    reply = await approvals.ListRequests(
        apb.ListRequestsRequest(
            assignee_id=assignee_id,
            deal_id=str(deal_id or ""),
            status=status,
            cursor=cursor,
            limit=limit,
        )
    )
    return Page(
        items=[ApprovalOut.of(r) for r in reply.requests],
        next_cursor=cursor_or_none(reply.next_cursor),
    )


@router.get("/{request_id}", responses=responses(404))
async def get_approval(request_id: int, _: CurrentUser, approvals: Approvals) -> ApprovalOut:
    """A request with its rounds and every decision (who, when, outcome, comment, fields)."""
    reply = await approvals.GetRequest(apb.GetRequestRequest(id=str(request_id)))
    return ApprovalOut.of(reply, full=True)


@router.post("/{request_id}/decision", responses=responses(403, 404, 409))
async def decide(
    request_id: int,
    body: DecisionIn,
    user: CurrentUser,
    approvals: Approvals,
    notifications: Notifications,
    temporal: TemporalClient,
    known: KnownTasks,
) -> ApprovalOut:
    """Approve or reject the step waiting for you (or for the absent person you stand in
    for); a rejection needs a comment, changed fields must be the step's own."""
    request = await approvals.GetRequest(apb.GetRequestRequest(id=str(request_id)))
    task_id = await _my_task(request, user, notifications)
    answer = TaskComplete(
        outcome=body.decision,
        data={
            "comment": body.comment,
            "fields": body.fields,
            "file_ids": [str(f) for f in body.file_ids],
        },
    )
    await complete_task(int(task_id), answer, user, notifications, temporal, known)
    reply = await approvals.GetRequest(apb.GetRequestRequest(id=str(request_id)))
    return ApprovalOut.of(reply, full=True)


async def _my_task(request: Any, user: Principal, notifications: BoundStub) -> str:
    waiting = list(request.open_assignments)
    if not waiting:
        raise Problem(409, "no step of this request is waiting for a decision")
    me = str(user.id)
    for a in waiting:
        if me in (a.approver_id, a.stand_in_id) and a.task_id:
            return str(a.task_id)
    for a in waiting:
        if a.task_id and await _answers_for_absent_assignee(a.task_id, notifications):
            return str(a.task_id)
    raise Problem(403, "the step waiting here is not yours to decide")


async def _answers_for_absent_assignee(task_id: str, notifications: BoundStub) -> bool:
    """Whether the caller is the substitute of the task's absent assignee (the rule lives in
    the notifications service)."""
    try:
        check = await notifications.CheckAnswerer(
            notifications_pb2.CheckAnswererRequest(id=task_id)
        )
    except NotFound:
        return False
    return bool(check.allowed and check.stands_in_for)
