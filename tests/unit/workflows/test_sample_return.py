"""SM-2 Sample return on the time-skipping server, with the services faked by name."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.workflows.fakes import (
    DEAL_ID,
    DEAL_TITLE,
    HEAD,
    MANAGER,
    FakeServices,
    answer,
    eventually,
    open_task,
    run_happy_path,
    start_run,
    state,
)
from workflows.kit import params as kit_params
from workflows.kit.contracts import ASSIGNEE, STAGE, AnswerRefused
from workflows.processes.sample_return import SampleReturnParams, SampleReturnResult


@pytest.fixture
def fakes() -> FakeServices:
    return FakeServices()


@pytest.fixture
def worker(sample_return_worker: Worker) -> Worker:
    return sample_return_worker


async def today(env: WorkflowEnvironment) -> date:
    return (await env.get_current_time()).date()


def timeline(fakes: FakeServices) -> list[str]:
    return [entry.text for entry in fakes.of("add_timeline_entry")]


async def test_happy_path(env: WorkflowEnvironment, worker: Worker, fakes: FakeServices) -> None:
    return_by = await today(env) + timedelta(days=30)
    handle = await start_run(env.client, worker.task_queue, return_by)

    hand_over = await open_task(handle, fakes, "sample_return.hand_over")
    task = fakes.task("sample_return.hand_over")
    assert (task.assignee_id, task.outcomes, task.deal_id) == (MANAGER.id, ["handed"], DEAL_ID)
    assert task.workflow_id == handle.id
    assert (await state(handle)).stage == "new"

    result = await answer(handle, hand_over, MANAGER, "handed", handed_on="2026-03-02")
    assert (result.task_id, result.outcome, result.stage) == (
        hand_over,
        "handed",
        "handed_to_client",
    )
    # The completed task as the complete_task activity got it, for the gateway's answer.
    assert result.task == {"id": hand_over, "status": "completed", "outcome": "handed"}
    control = await open_task(handle, fakes, "sample_return.control")
    control_task = fakes.task("sample_return.control")
    assert control_task.assignee_id == MANAGER.id
    assert control_task.deadline is not None and control_task.deadline.date() == return_by

    result = await answer(handle, control, MANAGER, "returned")
    assert result.stage == "returned_pending_confirmation"
    confirm = await open_task(handle, fakes, "sample_return.confirm")
    assert fakes.task("sample_return.confirm").assignee_id == HEAD.id
    assert (await answer(handle, confirm, HEAD, "confirmed")).stage == "returned"

    send_back = await open_task(handle, fakes, "sample_return.send_back")
    await answer(handle, send_back, MANAGER, "sent", sent_on="2026-03-20", tracking="DHL 123")
    outcome = await handle.result()

    assert isinstance(outcome, SampleReturnResult)
    assert (outcome.handed_on, outcome.sent_on, outcome.tracking) == (
        "2026-03-02",
        "2026-03-20",
        "DHL 123",
    )
    assert outcome.confirmed_by == HEAD.id and outcome.escalated_to == ""
    assert [a.outcome for a in outcome.answers] == ["handed", "returned", "confirmed", "sent"]
    assert timeline(fakes) == [
        f"Sample return started; samples due back {return_by}",
        f"Samples handed to the client on 2026-03-02, due back {return_by}",
        f"Manager reports the samples are back; {HEAD.name} to confirm",
        f"Samples returned (confirmed by {HEAD.name})",
        "Samples sent back to the supplier on 2026-03-20 (DHL 123)",
        "sample_return finished: sent_to_supplier",  # the deal's rules hear of it
    ]
    (update,) = fakes.of("update_deal_fields")
    assert (update.deal_id, update.fields) == (DEAL_ID, {"samples_returned": True})
    completions = [(c.task_id, c.outcome, c.completed_by) for c in fakes.of("complete_task")]
    assert completions == [
        (hand_over, "handed", MANAGER.id),
        (control, "returned", MANAGER.id),
        (confirm, "confirmed", HEAD.id),
        (send_back, "sent", MANAGER.id),
    ]
    assert fakes.of("create_notification") == [] and fakes.of("cancel_task") == []

    final = await state(handle)
    assert (final.stage, final.open_task_ids) == ("sent_to_supplier", [])
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(STAGE) == "sent_to_supplier"
    assert attributes.get(ASSIGNEE) is None


async def test_idempotency_keys_are_workflow_id_and_step(
    env: WorkflowEnvironment, worker: Worker, fakes: FakeServices
) -> None:
    handle = await start_run(env.client, worker.task_queue, await today(env) + timedelta(days=3))
    await run_happy_path(handle, fakes, escalate=lambda: env.sleep(timedelta(days=5)))
    await handle.result()

    keys = [
        inp.idempotency_key
        for name in ("create_task", "create_notification", "add_timeline_entry")
        for inp in fakes.of(name)
    ]
    steps = ["hand_over", "control", "overdue", "confirm", "send_back", "overdue-notice"]
    steps += ["started", "handed", "overdue", "returned", "confirmed", "sent", "finished"]
    assert keys == [f"{handle.id}/{step}" for step in steps]


async def test_field_not_in_pipeline_is_not_set(
    env: WorkflowEnvironment, worker: Worker, fakes: FakeServices
) -> None:
    fakes.pipeline_fields = ["other"]
    handle = await start_run(env.client, worker.task_queue, await today(env) + timedelta(days=9))
    await run_happy_path(handle, fakes, escalate=None)
    await handle.result()
    assert len(fakes.of("get_pipeline")) == 1 and fakes.of("update_deal_fields") == []


async def test_overdue_escalates_to_the_head_without_blocking(
    env: WorkflowEnvironment, worker: Worker, fakes: FakeServices
) -> None:
    return_by = await today(env) + timedelta(days=3)
    handle = await start_run(env.client, worker.task_queue, return_by)
    hand_over = await open_task(handle, fakes, "sample_return.hand_over")
    await answer(handle, hand_over, MANAGER, "handed", handed_on="2026-03-02")
    control = await open_task(handle, fakes, "sample_return.control")
    assert fakes.of("find_head") == []

    await env.sleep(timedelta(days=2))  # still within the return date
    assert fakes.of("create_notification") == []

    await env.sleep(timedelta(days=3))
    overdue = await open_task(handle, fakes, "sample_return.overdue")
    await eventually(lambda: len(timeline(fakes)) == 3, "the overdue timeline entry")
    overdue_task = fakes.task("sample_return.overdue")
    assert overdue_task.assignee_id == HEAD.id
    assert overdue_task.title == f"Samples overdue on deal {DEAL_TITLE}"
    assert overdue_task.outcomes == ["acknowledged"]
    (notice,) = fakes.of("create_notification")
    assert (notice.user_id, notice.deal_id) == (HEAD.id, DEAL_ID)
    assert timeline(fakes)[-1] == f"Sample return overdue; escalated to {HEAD.name}"
    now = await state(handle)
    assert now.stage == "handed_to_client" and now.details["escalated_to"] == HEAD.id
    assert set(now.open_task_ids) == {control, overdue}
    # The process still waits on the manager, not on the head.
    assert (await handle.describe()).typed_search_attributes.get(ASSIGNEE) == MANAGER.id

    await answer(handle, control, MANAGER, "returned")
    await eventually(lambda: fakes.of("cancel_task"), "the overdue task to close")
    assert [c.task_id for c in fakes.of("cancel_task")] == [overdue]
    confirm = await open_task(handle, fakes, "sample_return.confirm")
    await answer(handle, confirm, HEAD, "confirmed")
    send_back = await open_task(handle, fakes, "sample_return.send_back")
    await answer(handle, send_back, MANAGER, "sent", sent_on="2026-03-20")
    result = await handle.result()
    assert result.escalated_to == HEAD.id
    assert timeline(fakes)[-2:] == [
        "Samples sent back to the supplier on 2026-03-20",
        "sample_return finished: sent_to_supplier",
    ]
    assert len(fakes.of("find_head")) == 1


async def test_head_may_acknowledge_the_overdue_task(
    env: WorkflowEnvironment, worker: Worker, fakes: FakeServices
) -> None:
    handle = await start_run(env.client, worker.task_queue, await today(env))
    hand_over = await open_task(handle, fakes, "sample_return.hand_over")
    await answer(handle, hand_over, MANAGER, "handed", handed_on="2026-03-02")
    await open_task(handle, fakes, "sample_return.control")
    await env.sleep(timedelta(days=1, hours=1))
    overdue = await open_task(handle, fakes, "sample_return.overdue")
    result = await answer(handle, overdue, HEAD, "acknowledged")
    assert result.stage == "handed_to_client"  # acknowledging moves nothing
    assert overdue not in (await state(handle)).open_task_ids


async def refused(handle: WorkflowHandle[object, object], task_id: str, **kw: object) -> str:
    actor = kw.pop("actor", MANAGER)
    outcome = str(kw.pop("outcome", "handed"))
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await answer(handle, task_id, actor, outcome, **kw)  # type: ignore[arg-type]
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.non_retryable
    return str(cause.type)


async def test_validator_refuses_and_nothing_changes(
    env: WorkflowEnvironment, worker: Worker, fakes: FakeServices
) -> None:
    handle = await start_run(env.client, worker.task_queue, await today(env) + timedelta(days=30))
    hand_over = await open_task(handle, fakes, "sample_return.hand_over")
    before = await state(handle)
    calls_before = list(fakes.calls)

    assert await refused(handle, hand_over, actor=HEAD, handed_on="2026-03-02") == (
        AnswerRefused.WRONG_ACTOR
    )
    assert await refused(handle, hand_over, outcome="lost", handed_on="2026-03-02") == (
        AnswerRefused.INVALID_OUTCOME
    )
    assert await refused(handle, hand_over) == AnswerRefused.INVALID_DATA
    assert await refused(handle, hand_over, handed_on="2nd of March") == AnswerRefused.INVALID_DATA
    assert await refused(handle, "t-999", handed_on="2026-03-02") == AnswerRefused.TASK_NOT_OPEN

    assert await state(handle) == before
    assert fakes.calls == calls_before  # no activity ran

    await answer(handle, hand_over, MANAGER, "handed", handed_on="2026-03-02")
    assert await refused(handle, hand_over, handed_on="2026-03-02") == AnswerRefused.TASK_NOT_OPEN
    await handle.terminate("test over")


async def test_send_back_requires_a_date(
    env: WorkflowEnvironment, worker: Worker, fakes: FakeServices
) -> None:
    handle = await start_run(env.client, worker.task_queue, await today(env) + timedelta(days=30))
    for kind, actor, outcome, data in [
        ("sample_return.hand_over", MANAGER, "handed", {"handed_on": "2026-03-02"}),
        ("sample_return.control", MANAGER, "returned", {}),
        ("sample_return.confirm", HEAD, "confirmed", {}),
    ]:
        await answer(handle, await open_task(handle, fakes, kind), actor, outcome, **data)
    send_back = await open_task(handle, fakes, "sample_return.send_back")
    kind = await refused(handle, send_back, outcome="sent", tracking="DHL 1")
    assert kind == AnswerRefused.INVALID_DATA
    await handle.terminate("test over")


async def test_bad_params_fail_the_run_at_once(env: WorkflowEnvironment, worker: Worker) -> None:
    from temporalio.client import WorkflowFailureError

    from workflows.kit.contracts import ProcessInput

    handle = await env.client.start_workflow(
        "sample_return",
        ProcessInput(deal_id="1", pipeline_id="1", initiator_id="u", params={}),
        id="deal-1/sample-return/bad",
        task_queue=worker.task_queue,
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    assert isinstance(failed.value.cause, ApplicationError)
    assert failed.value.cause.type == "InvalidParams"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "return_by is required"),
        ({"return_by": ""}, "return_by is required"),
        ({"return_by": "next week"}, "ISO date"),
        ({"return_by": 20260301}, "ISO date string"),
        ({"return_by": "2026-03-01", "colour": "red"}, "unknown parameter(s): colour"),
    ],
)
def test_parse_params_refuses(params: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        kit_params.parse(SampleReturnParams, params)


def test_parse_params_accepts_an_iso_date() -> None:
    parsed = kit_params.parse(SampleReturnParams, {"return_by": "2026-03-01"})
    assert parsed.return_by == date(2026, 3, 1)
