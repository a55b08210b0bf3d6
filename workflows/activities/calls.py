"""Workflow-side typed calls of the service activities, by name (the worker registers the
implementations in `services.py`; tests register fakes under the same names).

Reads and changes retry until the service is back (a process outlives an outage); a domain
error arrives as a non-retryable ApplicationError and fails the call at once. Completing a
task runs inside an Update the gateway waits on, so it gives up within seconds instead.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

from workflows.activities.types import (
    AddTimelineEntryInput,
    CancelTaskInput,
    CompleteTaskInput,
    CreateNotificationInput,
    CreateTaskInput,
    DealInfo,
    FindHeadInput,
    GetDealInput,
    GetPipelineInput,
    GetUserInput,
    NotificationInfo,
    PipelineInfo,
    TaskInfo,
    TimelineEntryInfo,
    UpdateDealFieldsInput,
    UserInfo,
)

T = TypeVar("T")

_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
_CALL_TIMEOUT = timedelta(seconds=30)
_ANSWER_BUDGET = timedelta(seconds=20)


async def _run(name: str, arg: object, result_type: type[T]) -> T:
    result: T = await workflow.execute_activity(
        name,
        arg,
        result_type=result_type,
        start_to_close_timeout=_CALL_TIMEOUT,
        retry_policy=_RETRY,
    )
    return result


async def get_deal(inp: GetDealInput) -> DealInfo:
    return await _run("get_deal", inp, DealInfo)


async def get_pipeline(inp: GetPipelineInput) -> PipelineInfo:
    return await _run("get_pipeline", inp, PipelineInfo)


async def find_head(inp: FindHeadInput) -> UserInfo:
    return await _run("find_head", inp, UserInfo)


async def get_user(inp: GetUserInput) -> UserInfo:
    return await _run("get_user", inp, UserInfo)


async def create_task(inp: CreateTaskInput) -> TaskInfo:
    return await _run("create_task", inp, TaskInfo)


async def cancel_task(inp: CancelTaskInput) -> TaskInfo:
    return await _run("cancel_task", inp, TaskInfo)


async def create_notification(inp: CreateNotificationInput) -> NotificationInfo:
    return await _run("create_notification", inp, NotificationInfo)


async def add_timeline_entry(inp: AddTimelineEntryInput) -> TimelineEntryInfo:
    return await _run("add_timeline_entry", inp, TimelineEntryInfo)


async def update_deal_fields(inp: UpdateDealFieldsInput) -> None:
    await workflow.execute_activity(
        "update_deal_fields", inp, start_to_close_timeout=_CALL_TIMEOUT, retry_policy=_RETRY
    )


async def complete_task(inp: CompleteTaskInput) -> TaskInfo:
    result: TaskInfo = await workflow.execute_activity(
        "complete_task",
        inp,
        result_type=TaskInfo,
        start_to_close_timeout=timedelta(seconds=10),
        schedule_to_close_timeout=_ANSWER_BUDGET,
        retry_policy=RetryPolicy(
            initial_interval=timedelta(milliseconds=500), maximum_interval=timedelta(seconds=5)
        ),
    )
    return result
