"""Answering tasks: a process's task goes to its workflow as an Update whose refusals map
to statuses; a plain task is completed by the notifications service, by whoever that
service says may answer it. Who sees a task is the notifications service's decision: the
gateway asks as the caller and passes its answers on."""

from __future__ import annotations

import pytest
from dealflow.notifications.v1 import notifications_pb2
from google.protobuf.json_format import MessageToDict
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from services.common.errors import NotFound, PermissionDenied
from services.common.grpc_server import ACTOR_KEY
from tests.unit.gateway.conftest import USER_ID, World
from workflows.kit.contracts import (
    COMPLETE_TASK_UPDATE,
    AnswerRefused,
    TaskAnswer,
    TaskAnswerResult,
)

WF = "deal-42/sample-return/1"


def task(**overrides: object) -> notifications_pb2.Task:
    values: dict[str, object] = {
        "id": "5",
        "assignee_id": str(USER_ID),
        "title": "Hand the sample over",
        "deal_id": "42",
        "status": "open",
        "outcomes": ["handed_over", "refused"],
        "workflow_id": WF,
    }
    values.update(overrides)
    return notifications_pb2.Task(**values)  # type: ignore[arg-type]


def answerer(
    of: notifications_pb2.Task, *, allowed: bool = True, stands_in_for: str = ""
) -> notifications_pb2.CheckAnswererResponse:
    return notifications_pb2.CheckAnswererResponse(
        allowed=allowed, stands_in_for=stands_in_for, task=of
    )


async def test_process_task_answer_goes_to_the_workflow(world: World) -> None:
    world.notifications.answers["CheckAnswerer"] = answerer(task())
    world.notifications.answers["GetTask"] = task(status="completed", outcome="handed_over")

    reply = await world.http.post(
        "/api/v1/tasks/5/complete",
        json={"outcome": "handed_over", "data": {"tracking": "RA123"}},
        headers=world.auth(),
    )

    assert reply.status_code == 200
    assert reply.json()["status"] == "completed"  # the task as it is after the answer
    assert world.temporal.updates == [
        (
            WF,
            COMPLETE_TASK_UPDATE,
            TaskAnswer("5", str(USER_ID), "handed_over", {"tracking": "RA123"}),
        )
    ]
    assert world.notifications.called("CompleteTask") == []


async def test_the_answer_is_the_task_the_update_hands_back(world: World) -> None:
    done = task(status="completed", outcome="handed_over", completed_by=str(USER_ID))
    done.result.update({"tracking": "RA123"})
    world.notifications.answers["CheckAnswerer"] = answerer(task())
    world.temporal.update_result = TaskAnswerResult(
        "5", "handed_over", "handed", task=MessageToDict(done, preserving_proto_field_name=True)
    )

    reply = await world.http.post(
        "/api/v1/tasks/5/complete",
        json={"outcome": "handed_over", "data": {"tracking": "RA123"}},
        headers=world.auth(),
    )

    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["status"], body["outcome"], body["completed_by"]) == (
        "completed",
        "handed_over",
        USER_ID,
    )
    assert body["result"] == {"tracking": "RA123"}
    assert world.notifications.called("GetTask") == []  # not read a second time


@pytest.mark.parametrize(
    ("refusal", "status"),
    [
        (AnswerRefused.WRONG_ACTOR, 403),
        (AnswerRefused.TASK_NOT_OPEN, 409),
        (AnswerRefused.INVALID_OUTCOME, 422),
        (AnswerRefused.INVALID_DATA, 422),
    ],
)
async def test_refused_answer_maps_to_status(world: World, refusal: str, status: int) -> None:
    world.notifications.answers["CheckAnswerer"] = answerer(task())
    world.notifications.answers["GetTask"] = task()
    world.temporal.update_error = WorkflowUpdateFailedError(
        ApplicationError(f"refused: {refusal}", type=refusal, non_retryable=True)
    )

    reply = await world.http.post(
        "/api/v1/tasks/5/complete", json={"outcome": "maybe"}, headers=world.auth()
    )

    assert reply.status_code == status
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.json()["detail"] == f"refused: {refusal}"


async def test_invalid_outcome_names_the_field(world: World) -> None:
    world.notifications.answers["CheckAnswerer"] = answerer(task())
    world.notifications.answers["GetTask"] = task()
    world.temporal.update_error = WorkflowUpdateFailedError(
        ApplicationError("not one of handed_over, refused", type=AnswerRefused.INVALID_OUTCOME)
    )

    reply = await world.http.post(
        "/api/v1/tasks/5/complete", json={"outcome": "maybe"}, headers=world.auth()
    )

    assert reply.json()["errors"] == [
        {"field": "outcome", "message": "not one of handed_over, refused"}
    ]


async def test_answer_to_a_finished_process_is_409(world: World) -> None:
    world.notifications.answers["CheckAnswerer"] = answerer(task())
    world.notifications.answers["GetTask"] = task()
    world.temporal.update_error = RPCError(
        "workflow execution already completed", RPCStatusCode.NOT_FOUND, b""
    )

    reply = await world.http.post(
        "/api/v1/tasks/5/complete", json={"outcome": "handed_over"}, headers=world.auth()
    )

    assert reply.status_code == 409


async def test_temporal_unreachable_is_503(world: World) -> None:
    world.notifications.answers["CheckAnswerer"] = answerer(task())
    world.notifications.answers["GetTask"] = task()
    world.temporal.update_error = RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")

    reply = await world.http.post(
        "/api/v1/tasks/5/complete", json={"outcome": "handed_over"}, headers=world.auth()
    )

    assert reply.status_code == 503
    assert "retry-after" in reply.headers


async def test_plain_task_completed_by_its_assignee(world: World) -> None:
    world.notifications.answers["CheckAnswerer"] = answerer(task(workflow_id=""))
    world.notifications.answers["CompleteTask"] = task(
        workflow_id="", status="completed", outcome="done", completed_by=str(USER_ID)
    )

    reply = await world.http.post(
        "/api/v1/tasks/5/complete",
        json={"outcome": "done", "data": {"n": 2}},
        headers=world.auth(),
    )

    assert reply.status_code == 200
    assert reply.json()["completed_by"] == USER_ID
    sent = world.notifications.called("CompleteTask")[0].request
    assert (sent.id, sent.outcome, sent.completed_by) == ("5", "done", str(USER_ID))
    assert world.temporal.updates == []


async def test_a_watcher_may_not_complete_a_plain_task(world: World) -> None:
    watched = task(workflow_id="", assignee_id="99", watcher_ids=[str(USER_ID)])
    world.notifications.answers["CheckAnswerer"] = answerer(watched, allowed=False)

    reply = await world.http.post(
        "/api/v1/tasks/5/complete", json={"outcome": "done"}, headers=world.auth()
    )

    assert reply.status_code == 403
    assert world.notifications.called("CompleteTask") == []
    (check,) = world.notifications.called("CheckAnswerer")
    assert (ACTOR_KEY, str(USER_ID)) in check.metadata  # asked as the caller


async def test_the_substitute_of_an_absent_assignee_completes_the_task(world: World) -> None:
    theirs = task(workflow_id="", assignee_id="99")
    world.notifications.answers["CheckAnswerer"] = answerer(theirs, stands_in_for="99")
    world.notifications.answers["CompleteTask"] = task(workflow_id="", status="completed")

    reply = await world.http.post(
        "/api/v1/tasks/5/complete", json={"outcome": "done"}, headers=world.auth()
    )

    assert reply.status_code == 200, reply.text
    assert world.notifications.called("CompleteTask")[0].request.completed_by == str(USER_ID)


async def test_a_substitute_answers_a_process_task_for_the_assignee(world: World) -> None:
    world.notifications.answers["CheckAnswerer"] = answerer(
        task(assignee_id="99"), stands_in_for="99"
    )
    world.notifications.answers["GetTask"] = task(status="completed")

    reply = await world.http.post(
        "/api/v1/tasks/5/complete", json={"outcome": "handed_over"}, headers=world.auth()
    )

    assert reply.status_code == 200, reply.text
    ((_, _, answer),) = world.temporal.updates
    assert (answer.actor_id, answer.stands_in_for) == (str(USER_ID), "99")


async def test_a_process_task_not_yours_is_for_its_workflow_to_refuse(world: World) -> None:
    # A step may name more people who answer it than the assignee and the substitute.
    world.notifications.answers["CheckAnswerer"] = answerer(task(assignee_id="99"), allowed=False)
    world.temporal.update_error = WorkflowUpdateFailedError(
        ApplicationError("not yours", type=AnswerRefused.WRONG_ACTOR, non_retryable=True)
    )
    world.notifications.answers["GetTask"] = task(assignee_id="99")

    reply = await world.http.post(
        "/api/v1/tasks/5/complete", json={"outcome": "handed_over"}, headers=world.auth()
    )

    assert reply.status_code == 403
    ((_, _, answer),) = world.temporal.updates
    assert answer.stands_in_for == ""


async def test_a_task_nobody_lets_you_see_is_404(world: World) -> None:
    world.notifications.answers["GetTask"] = NotFound("task 5 does not exist")
    world.notifications.answers["CheckAnswerer"] = NotFound("task 5 does not exist")

    read = await world.http.get("/api/v1/tasks/5", headers=world.auth())
    answer = await world.http.post(
        "/api/v1/tasks/5/complete", json={"outcome": "done"}, headers=world.auth()
    )

    assert (read.status_code, answer.status_code) == (404, 404)
    (get,) = world.notifications.called("GetTask")
    assert (ACTOR_KEY, str(USER_ID)) in get.metadata
    assert world.deals.business_calls() == []  # the gateway decides nothing itself


async def test_a_task_announces_what_its_answer_needs(world: World) -> None:
    spec = task(
        answer_fields=[
            notifications_pb2.AnswerField(
                name="handed_on", type="date", required=True, label="Handed on"
            ),
            notifications_pb2.AnswerField(
                name="carrier", type="string", options=["dhl", "ups"], required_for=["handed_over"]
            ),
        ],
        comment_outcomes=["refused"],
        watcher_ids=["31"],
    )
    world.notifications.answers["GetTask"] = spec

    reply = await world.http.get("/api/v1/tasks/5", headers=world.auth())

    assert reply.status_code == 200
    body = reply.json()
    assert body["answer_fields"] == [
        {
            "name": "handed_on",
            "type": "date",
            "required": True,
            "options": [],
            "required_for": [],
            "label": "Handed on",
        },
        {
            "name": "carrier",
            "type": "string",
            "required": False,
            "options": ["dhl", "ups"],
            "required_for": ["handed_over"],
            "label": "",
        },
    ]
    assert (body["comment_outcomes"], body["watcher_ids"]) == (["refused"], [31])


async def test_listing_another_users_tasks_is_the_services_decision(world: World) -> None:
    world.notifications.answers["ListTasks"] = PermissionDenied("you may not see this user's tasks")

    reply = await world.http.get("/api/v1/tasks", params={"assignee": "99"}, headers=world.auth())

    assert reply.status_code == 403
    (listed,) = world.notifications.called("ListTasks")
    assert listed.request.assignee_id == "99"
    assert (ACTOR_KEY, str(USER_ID)) in listed.metadata


async def test_my_tasks(world: World) -> None:
    world.notifications.answers["ListTasks"] = notifications_pb2.ListTasksResponse(tasks=[task()])

    reply = await world.http.get(
        "/api/v1/tasks", params={"assignee": "me", "status": "open"}, headers=world.auth()
    )

    assert reply.status_code == 200
    assert reply.json() == {"items": [reply.json()["items"][0]], "next_cursor": None}
    assert reply.json()["items"][0]["workflow_id"] == WF
    sent = world.notifications.called("ListTasks")[0].request
    assert (sent.assignee_id, sent.status) == (str(USER_ID), "open")


@pytest.mark.parametrize(
    ("params", "assignee", "watcher", "deal"),
    [
        ({}, str(USER_ID), "", ""),
        ({"watching": "me"}, "", str(USER_ID), ""),
        ({"watching": "me", "deal_id": 42}, "", str(USER_ID), "42"),
        ({"deal_id": 42}, "", "", "42"),
    ],
)
async def test_list_filters(
    world: World, params: dict[str, object], assignee: str, watcher: str, deal: str
) -> None:
    world.notifications.answers["ListTasks"] = notifications_pb2.ListTasksResponse()

    reply = await world.http.get("/api/v1/tasks", params=params, headers=world.auth())

    assert reply.status_code == 200
    sent = world.notifications.called("ListTasks")[0].request
    assert (sent.assignee_id, sent.watcher_id, sent.deal_id) == (assignee, watcher, deal)
