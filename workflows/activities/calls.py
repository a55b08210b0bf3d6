"""Workflow-side typed calls of the service activities, by name (the worker registers the
implementations in `services.py`; tests register fakes under the same names).

Retries and timeouts: workflows/activities/retry.py (completing a task runs inside an
Update the gateway waits on, so it gives up within seconds).
"""

from __future__ import annotations

from typing import Any

from workflows.activities.retry import call as _run
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
    ListItemsInput,
    ListValue,
    LookUpListInput,
    NotificationInfo,
    PipelineInfo,
    TaskInfo,
    TimelineEntryInfo,
    UpdateDealFieldsInput,
    UserInfo,
)


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
    await _run("update_deal_fields", inp, type(None))


async def complete_task(inp: CompleteTaskInput) -> TaskInfo:
    return await _run("complete_task", inp, TaskInfo, in_answer=True)


async def look_up_list(inp: LookUpListInput) -> ListValue:
    return await _run("look_up_list", inp, ListValue)


async def list_items(inp: ListItemsInput) -> list[dict[str, Any]]:
    return await _run("list_items", inp, list[dict[str, Any]])


async def list_items_in_answer(inp: ListItemsInput) -> list[dict[str, Any]]:
    """Inside an answer the gateway waits on (checking it against a list)."""
    return await _run("list_items", inp, list[dict[str, Any]], in_answer=True)
