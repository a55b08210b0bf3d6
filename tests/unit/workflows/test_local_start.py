"""A process's steps until its first task run as local activities (the kit's
`steps_run_locally`, behind `workflow.patched`): the start to the first task is one workflow
task; a step failing for a while is retried in the worker, one still failing after the
local attempts goes to an activity task; a step the service refuses fails as before; the steps
after the first task are activity tasks as before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.workflows.fakes import (
    MANAGER,
    FakeServices,
    answer,
    eventually,
    open_task,
    start_run,
)
from workflows.activities.types import DealInfo, GetDealInput

SCHEDULED = EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
MARKER = EventType.EVENT_TYPE_MARKER_RECORDED
TASK_COMPLETED = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED


@dataclass
class FlakyDeals(FakeServices):
    """`get_deal` fails retryably `failures` times, or (`while_local`) while it runs as a
    local activity; `refuse` fails it for good (the service's domain error)."""

    failures: int = 0
    while_local: bool = False
    refuse: bool = False

    def __post_init__(self) -> None:
        self.attempts: list[bool] = []  # is_local of each get_deal attempt

    def activities(self) -> list[Any]:
        return [self.get_deal if a.__name__ == "get_deal" else a for a in super().activities()]

    @activity.defn(name="get_deal")
    async def get_deal(self, inp: GetDealInput) -> DealInfo:
        self.attempts.append(activity.info().is_local)
        if self.refuse:
            raise ApplicationError("deal 42 not found", type="NotFound", non_retryable=True)
        if self.failures > 0 or (self.while_local and activity.info().is_local):
            self.failures -= 1
            raise ApplicationError("deals unavailable", type="ServiceUnavailable")
        return await super().get_deal(inp)


@pytest.fixture
def fakes() -> FlakyDeals:
    return FlakyDeals()


@pytest.fixture
def worker(sample_return_worker: Worker) -> Worker:
    return sample_return_worker


async def start(env: WorkflowEnvironment, worker: Worker) -> WorkflowHandle[Any, Any]:
    return_by = (await env.get_current_time()).date() + timedelta(days=30)
    return await start_run(env.client, worker.task_queue, return_by)


async def events(handle: WorkflowHandle[Any, Any]) -> list[HistoryEvent]:
    return list((await handle.fetch_history()).events)


def scheduled(history: list[HistoryEvent]) -> list[str]:
    return [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history
        if e.event_type == SCHEDULED
    ]


async def test_the_start_to_the_first_task_is_one_workflow_task(
    env: WorkflowEnvironment, worker: Worker, fakes: FlakyDeals
) -> None:
    handle = await start(env, worker)
    hand_over = await open_task(handle, fakes, "sample_return.hand_over")
    history = await events(handle)
    types = [e.event_type for e in history]
    assert SCHEDULED not in types
    assert types.count(TASK_COMPLETED) == 1
    assert types.count(MARKER) == 4  # the patch; the deal, the timeline entry, the task
    assert [name for name, _ in fakes.calls] == ["get_deal", "add_timeline_entry", "create_task"]

    await answer(handle, hand_over, MANAGER, "handed", handed_on="2026-03-02")
    await open_task(handle, fakes, "sample_return.control")
    # After the first task, steps are activity tasks as before.
    assert scheduled(await events(handle)) == ["add_timeline_entry", "create_task"]
    assert fakes.task("sample_return.hand_over").idempotency_key == f"{handle.id}/hand_over"


async def test_a_step_failing_for_a_while_is_retried_locally(
    env: WorkflowEnvironment, worker: Worker, fakes: FlakyDeals
) -> None:
    fakes.failures = 1
    handle = await start(env, worker)
    await open_task(handle, fakes, "sample_return.hand_over")
    assert fakes.attempts == [True, True]
    assert scheduled(await events(handle)) == []


async def test_a_refused_step_fails_the_run_as_an_activity_task_would(
    env: WorkflowEnvironment, worker: Worker, fakes: FlakyDeals
) -> None:
    fakes.refuse = True
    handle = await start(env, worker)
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    cause = failed.value.cause
    assert isinstance(cause, ActivityError)
    assert isinstance(cause.cause, ApplicationError) and cause.cause.type == "NotFound"
    assert fakes.attempts == [True]  # not retried


async def test_a_service_down_past_the_local_attempts_gets_an_activity_task(
    env: WorkflowEnvironment, worker: Worker, fakes: FlakyDeals
) -> None:
    """Takes ≈ 7 s of real time (the worker's own retries, 1, 2, 4 s apart, are not skipped)."""
    fakes.while_local = True
    handle = await start(env, worker)
    await eventually(lambda: False in fakes.attempts, "get_deal as an activity task", 30)
    await open_task(handle, fakes, "sample_return.hand_over")
    assert fakes.attempts == [True, True, True, True, False]
    # The step after it (the timeline entry) and the task still run locally.
    assert scheduled(await events(handle)) == ["get_deal"]
    assert [name for name, _ in fakes.calls] == ["get_deal", "add_timeline_entry", "create_task"]
