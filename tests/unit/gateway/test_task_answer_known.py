"""An answer to a task the gateway has listed or read: its assignee's goes straight to the
workflow (the task's workflow and assignee never change); anyone else's, and one refused
for what a read of the task tells (not open, the run gone), is checked as before, so the
statuses stay those of the checked path."""

from __future__ import annotations

from dealflow.notifications.v1 import notifications_pb2
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from services.common.errors import NotFound
from services.gateway.task_owners import TaskOwner, TaskOwners
from tests.unit.gateway.conftest import USER_ID, World
from tests.unit.gateway.test_task_answer_retry import NOT_OPEN
from tests.unit.gateway.test_tasks import WF, answerer, task
from workflows.kit.contracts import COMPLETE_TASK_UPDATE, AnswerRefused, TaskAnswer


async def _listed(world: World, *tasks: notifications_pb2.Task) -> None:
    world.notifications.answers["ListTasks"] = notifications_pb2.ListTasksResponse(tasks=tasks)
    reply = await world.http.get("/api/v1/tasks", headers=world.auth())
    assert reply.status_code == 200, reply.text


async def _answer(world: World, outcome: str = "handed_over") -> int:
    reply = await world.http.post(
        "/api/v1/tasks/5/complete", json={"outcome": outcome}, headers=world.auth()
    )
    return reply.status_code


async def test_the_assignee_of_a_listed_task_answers_without_a_check(world: World) -> None:
    await _listed(world, task())
    world.notifications.answers["GetTask"] = task(status="completed", outcome="handed_over")

    assert await _answer(world) == 200

    assert world.notifications.called("CheckAnswerer") == []
    assert world.temporal.updates == [
        (WF, COMPLETE_TASK_UPDATE, TaskAnswer("5", str(USER_ID), "handed_over"))
    ]


async def test_a_task_read_before_is_known_too(world: World) -> None:
    world.notifications.answers["GetTask"] = task()
    assert (await world.http.get("/api/v1/tasks/5", headers=world.auth())).status_code == 200

    assert await _answer(world) == 200

    assert world.notifications.called("CheckAnswerer") == []


async def test_someone_else_answering_a_known_task_is_checked(world: World) -> None:
    # The substitute of the absent assignee: whether they stand in is asked at the answer.
    await _listed(world, task(assignee_id="99"))
    world.notifications.answers["CheckAnswerer"] = answerer(
        task(assignee_id="99"), stands_in_for="99"
    )
    world.notifications.answers["GetTask"] = task(status="completed")

    assert await _answer(world) == 200

    assert len(world.notifications.called("CheckAnswerer")) == 1
    ((_, _, answer),) = world.temporal.updates
    assert answer.stands_in_for == "99"


async def test_a_known_task_not_open_is_checked_and_a_lost_answer_still_succeeds(
    world: World,
) -> None:
    await _listed(world, task())
    done = task(status="completed", outcome="handed_over", completed_by=str(USER_ID))
    world.notifications.answers["CheckAnswerer"] = answerer(done)
    world.notifications.answers["GetTask"] = done
    world.temporal.update_error = NOT_OPEN

    assert await _answer(world) == 200  # the first answer was recorded, its response lost

    assert len(world.notifications.called("CheckAnswerer")) == 1
    assert len(world.temporal.updates) == 2  # unchecked, then checked


async def test_a_known_task_answered_otherwise_is_409(world: World) -> None:
    await _listed(world, task())
    done = task(status="completed", outcome="refused", completed_by=str(USER_ID))
    world.notifications.answers["CheckAnswerer"] = answerer(done)
    world.notifications.answers["GetTask"] = done
    world.temporal.update_error = NOT_OPEN

    assert await _answer(world) == 409


async def test_a_refusal_of_the_actor_is_the_checks_to_answer(world: World) -> None:
    # Never for the task's own assignee; were it so, the check would decide (here: 404).
    await _listed(world, task())
    world.notifications.answers["CheckAnswerer"] = NotFound("task 5 does not exist")
    world.temporal.update_error = WorkflowUpdateFailedError(
        ApplicationError("not yours", type=AnswerRefused.WRONG_ACTOR, non_retryable=True)
    )

    assert await _answer(world) == 404


async def test_a_known_task_of_a_finished_run_is_409(world: World) -> None:
    await _listed(world, task())
    world.notifications.answers["CheckAnswerer"] = answerer(task(status="cancelled"))
    world.notifications.answers["GetTask"] = task(status="cancelled")
    world.temporal.update_error = RPCError("completed", RPCStatusCode.NOT_FOUND, b"")

    assert await _answer(world) == 409

    assert len(world.notifications.called("CheckAnswerer")) == 1


async def test_bad_data_from_the_assignee_is_refused_at_once(world: World) -> None:
    # The checked path would send the same Update and get the same refusal.
    await _listed(world, task())
    world.notifications.answers["GetTask"] = task()
    world.temporal.update_error = WorkflowUpdateFailedError(
        ApplicationError("bad", type=AnswerRefused.INVALID_OUTCOME, non_retryable=True)
    )

    assert await _answer(world, "maybe") == 422

    assert world.notifications.called("CheckAnswerer") == []
    assert len(world.temporal.updates) == 1


async def test_the_assignee_of_a_known_plain_task_completes_it(world: World) -> None:
    await _listed(world, task(workflow_id=""))
    world.notifications.answers["CompleteTask"] = task(workflow_id="", status="completed")

    assert await _answer(world, "done") == 200

    assert world.notifications.called("CheckAnswerer") == []
    assert world.notifications.called("CompleteTask")[0].request.completed_by == str(USER_ID)


def test_the_tasks_remembered_are_bounded() -> None:
    owners = TaskOwners(limit=2)
    for n in (1, 2, 3):
        owners.remember(task(id=str(n), assignee_id=str(10 + n)))
    owners.remember(task(id="4", assignee_id=""))  # nothing to go by

    assert [owners.of(n) for n in (1, 2, 3, 4)] == [
        None,
        TaskOwner(WF, "12"),
        TaskOwner(WF, "13"),
        None,
    ]
