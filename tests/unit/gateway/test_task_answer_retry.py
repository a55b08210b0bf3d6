"""A retried answer whose first response was lost (a gateway restart, a cut connection)
learns that its answer was recorded instead of being refused; any other refusal stands."""

from __future__ import annotations

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from tests.unit.gateway.conftest import USER_ID, World
from tests.unit.gateway.test_tasks import answerer, task
from workflows.kit.contracts import AnswerRefused

NOT_OPEN = WorkflowUpdateFailedError(
    ApplicationError("task 5 is not open", type=AnswerRefused.TASK_NOT_OPEN, non_retryable=True)
)


async def test_a_repeat_of_the_recorded_answer_is_200(world: World) -> None:
    done = task(status="completed", outcome="handed_over", completed_by=str(USER_ID))
    world.notifications.answers["CheckAnswerer"] = answerer(task())
    world.notifications.answers["GetTask"] = done
    world.temporal.update_error = NOT_OPEN

    reply = await world.http.post(
        "/api/v1/tasks/5/complete", json={"outcome": "handed_over"}, headers=world.auth()
    )

    assert reply.status_code == 200
    assert reply.json()["status"] == "completed"


async def test_another_outcome_person_or_data_is_still_refused(world: World) -> None:
    done = task(status="completed", outcome="refused", completed_by=str(USER_ID))
    world.notifications.answers["CheckAnswerer"] = answerer(done)
    world.notifications.answers["GetTask"] = done
    world.temporal.update_error = NOT_OPEN
    other_data = await world.http.post(
        "/api/v1/tasks/5/complete",
        json={"outcome": "refused", "data": {"why": "late"}},
        headers=world.auth(),
    )

    other_outcome = await world.http.post(
        "/api/v1/tasks/5/complete", json={"outcome": "handed_over"}, headers=world.auth()
    )
    other_person = await world.http.post(
        "/api/v1/tasks/5/complete", json={"outcome": "refused"}, headers=world.auth(USER_ID + 1)
    )

    assert (other_outcome.status_code, other_person.status_code) == (409, 409)
    assert other_data.status_code == 409


async def test_an_answer_a_moment_before_the_workflow_recorded_the_task_waits_for_it(
    world: World,
) -> None:
    world.notifications.answers["CheckAnswerer"] = answerer(task())
    world.notifications.answers["GetTask"] = task(status="completed", outcome="handed_over")
    refusals = [NOT_OPEN, NOT_OPEN]
    handle_type = type(world.temporal.get_workflow_handle("x"))
    original = handle_type.execute_update

    async def not_yet_then_ok(self: object, update: str, arg: object, **kw: object) -> object:
        if refusals:
            world.temporal.updates.append(("refused", update, arg))
            raise refusals.pop()
        return await original(self, update, arg, **kw)  # type: ignore[arg-type]

    handle_type.execute_update = not_yet_then_ok  # type: ignore[method-assign,assignment]
    try:
        reply = await world.http.post(
            "/api/v1/tasks/5/complete", json={"outcome": "handed_over"}, headers=world.auth()
        )
    finally:
        handle_type.execute_update = original  # type: ignore[method-assign]

    assert reply.status_code == 200, reply.text
    assert len(world.temporal.updates) == 3  # two refusals while not yet recorded, then taken
