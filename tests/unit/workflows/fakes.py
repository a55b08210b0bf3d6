"""Fake service activities (registered under the real names) and drivers of a sample
return run, shared by the workflow tests and the history recorder."""

from __future__ import annotations

import asyncio
import shutil
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributeKey
from temporalio.testing import WorkflowEnvironment

from deploy.local.bootstrap import SEARCH_ATTRIBUTES
from tests.conftest import temporal_test_server
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
from workflows.kit import ProcessState
from workflows.kit.contracts import (
    COMPLETE_TASK_UPDATE,
    STATE_QUERY,
    ProcessInput,
    TaskAnswer,
    TaskAnswerResult,
)
from workflows.processes.sample_return import SampleReturn

MANAGER = UserInfo(id="u-manager", name="Maria Manager")
HEAD = UserInfo(id="u-head", name="Hugo Head")
DEAL_ID = "42"
PIPELINE_ID = "7"
DEAL_TITLE = "Cordless drills for Acme"


async def start_env() -> WorkflowEnvironment:
    """The time-skipping server with the search attributes the processes use."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server()
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes=dict.fromkeys(
                SEARCH_ATTRIBUTES, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
            ),
        )
    )
    return env


async def start_dev_env(*, eager: bool = False) -> WorkflowEnvironment:
    """The dev server (the one `make up` runs) with the search attributes; `eager`: with
    eager workflow starts on, as deploy/local/stack.py runs it."""
    extra = ["--dynamic-config-value", "system.enableEagerWorkflowStart=true"] if eager else []
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=shutil.which("temporal")
        or str(Path(sys.executable).parent / "temporal"),
        dev_server_extra_args=extra,
        search_attributes=[SearchAttributeKey.for_keyword(name) for name in SEARCH_ATTRIBUTES],
    )


@dataclass
class FakeServices:
    """Records every activity call as (name, input); tasks get ids t1, t2, ..."""

    pipeline_fields: list[str] = field(default_factory=lambda: ["samples_returned"])
    lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # admin lists by code
    calls: list[tuple[str, Any]] = field(default_factory=list)
    _task_ids: dict[str, str] = field(default_factory=dict)

    def of(self, name: str) -> list[Any]:
        return [inp for called, inp in self.calls if called == name]

    def task(self, kind: str) -> CreateTaskInput:
        (found,) = [t for t in self.of("create_task") if t.kind == kind]
        return found

    def task_id(self, kind: str) -> str:
        return self._task_ids[self.task(kind).idempotency_key]

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.get_deal,
            self.get_pipeline,
            self.find_head,
            self.get_user,
            self.create_task,
            self.complete_task,
            self.cancel_task,
            self.create_notification,
            self.add_timeline_entry,
            self.update_deal_fields,
            self.look_up_list,
            self.list_items,
        ]

    @activity.defn(name="get_deal")
    async def get_deal(self, inp: GetDealInput) -> DealInfo:
        self.calls.append(("get_deal", inp))
        return DealInfo(
            id=inp.deal_id,
            pipeline_id=PIPELINE_ID,
            stage_id="s-1",
            title=DEAL_TITLE,
            responsible_id=MANAGER.id,
        )

    @activity.defn(name="get_pipeline")
    async def get_pipeline(self, inp: GetPipelineInput) -> PipelineInfo:
        self.calls.append(("get_pipeline", inp))
        return PipelineInfo(id=inp.pipeline_id, name="Sales", field_codes=self.pipeline_fields)

    @activity.defn(name="find_head")
    async def find_head(self, inp: FindHeadInput) -> UserInfo:
        self.calls.append(("find_head", inp))
        return HEAD

    @activity.defn(name="get_user")
    async def get_user(self, inp: GetUserInput) -> UserInfo:
        self.calls.append(("get_user", inp))
        return {MANAGER.id: MANAGER, HEAD.id: HEAD}[inp.user_id]

    @activity.defn(name="create_task")
    async def create_task(self, inp: CreateTaskInput) -> TaskInfo:
        self.calls.append(("create_task", inp))
        task_id = self._task_ids.setdefault(inp.idempotency_key, f"t{len(self._task_ids) + 1}")
        return TaskInfo(id=task_id, status="open", assignee_id=inp.assignee_id)

    @activity.defn(name="complete_task")
    async def complete_task(self, inp: CompleteTaskInput) -> TaskInfo:
        self.calls.append(("complete_task", inp))
        whole = {"id": inp.task_id, "status": "completed", "outcome": inp.outcome}
        return TaskInfo(id=inp.task_id, status="completed", outcome=inp.outcome, task=whole)

    @activity.defn(name="cancel_task")
    async def cancel_task(self, inp: CancelTaskInput) -> TaskInfo:
        self.calls.append(("cancel_task", inp))
        return TaskInfo(id=inp.task_id, status="cancelled")

    @activity.defn(name="create_notification")
    async def create_notification(self, inp: CreateNotificationInput) -> NotificationInfo:
        self.calls.append(("create_notification", inp))
        return NotificationInfo(id=f"n{len(self.of('create_notification'))}")

    @activity.defn(name="add_timeline_entry")
    async def add_timeline_entry(self, inp: AddTimelineEntryInput) -> TimelineEntryInfo:
        self.calls.append(("add_timeline_entry", inp))
        return TimelineEntryInfo(id=f"e{len(self.of('add_timeline_entry'))}")

    @activity.defn(name="list_items")
    async def list_items(self, inp: ListItemsInput) -> list[dict[str, Any]]:
        self.calls.append(("list_items", inp))
        return self.lists.get(inp.code, [])

    @activity.defn(name="update_deal_fields")
    async def update_deal_fields(self, inp: UpdateDealFieldsInput) -> None:
        self.calls.append(("update_deal_fields", inp))

    @activity.defn(name="look_up_list")
    async def look_up_list(self, inp: LookUpListInput) -> ListValue:
        self.calls.append(("look_up_list", inp))
        if inp.list_code not in self.lists:
            return ListValue(list_missing=True)
        for row in self.lists[inp.list_code]:
            if str(row.get(inp.key_column)) == inp.key:
                return ListValue(str(row.get(inp.value_column) or ""))
        return ListValue()


async def start_run(
    client: Client, task_queue: str, return_by: date, *, workflow_id: str | None = None
) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        SampleReturn.run,
        ProcessInput(
            deal_id=DEAL_ID,
            pipeline_id=PIPELINE_ID,
            initiator_id=MANAGER.id,
            params={"return_by": return_by.isoformat()},
        ),
        id=workflow_id or f"deal-{DEAL_ID}/sample-return/{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
    )


async def start_deal_process(
    client: Client,
    task_queue: str,
    run: Callable[..., Any],
    process: str,
    params: dict[str, Any],
    *,
    workflow_id: str = "",
) -> WorkflowHandle[Any, Any]:
    """A run of `process` on the deal, started by the manager (`run`: its `@workflow.run`)."""
    slug = process.replace("_", "-")
    return await client.start_workflow(
        run,
        ProcessInput(DEAL_ID, PIPELINE_ID, MANAGER.id, params),
        id=workflow_id or f"deal-{DEAL_ID}/{slug}/{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
    )


async def state(handle: WorkflowHandle[Any, Any]) -> ProcessState:
    result: ProcessState = await handle.query(STATE_QUERY, result_type=ProcessState)
    return result


async def eventually(check: Callable[[], Any], what: str, timeout: float = 10.0) -> None:
    """Wait (in real time, briefly) for the worker to reach a point; time is not skipped."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await _holds(check):
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def _holds(check: Callable[[], Any]) -> bool:
    result = check()
    if asyncio.iscoroutine(result):
        result = await result
    return bool(result)


async def open_task(handle: WorkflowHandle[Any, Any], fakes: FakeServices, kind: str) -> str:
    """Wait until the process has opened a task of `kind` and accepts answers to it; its id."""

    async def is_open() -> bool:
        if not [t for t in fakes.of("create_task") if t.kind == kind]:
            return False
        return fakes.task_id(kind) in (await state(handle)).open_task_ids

    await eventually(is_open, f"task {kind}")
    return fakes.task_id(kind)


async def answer(
    handle: WorkflowHandle[Any, Any],
    task_id: str,
    actor: UserInfo,
    outcome: str,
    **data: Any,
) -> TaskAnswerResult:
    result: TaskAnswerResult = await handle.execute_update(
        COMPLETE_TASK_UPDATE,
        TaskAnswer(task_id=task_id, actor_id=actor.id, outcome=outcome, data=data),
        result_type=TaskAnswerResult,
    )
    return result


async def run_happy_path(
    handle: WorkflowHandle[Any, Any], fakes: FakeServices, *, escalate: Callable[[], Any] | None
) -> None:
    """Drive a run to the end; `escalate` (e.g. skipping past the return date) runs while
    the control task is open."""
    hand_over = await open_task(handle, fakes, "sample_return.hand_over")
    await answer(handle, hand_over, MANAGER, "handed", handed_on="2026-03-02")
    control = await open_task(handle, fakes, "sample_return.control")
    if escalate is not None:
        await _holds(escalate)
    await answer(handle, control, MANAGER, "returned")
    confirm = await open_task(handle, fakes, "sample_return.confirm")
    await answer(handle, confirm, HEAD, "confirmed")
    send_back = await open_task(handle, fakes, "sample_return.send_back")
    await answer(handle, send_back, MANAGER, "sent", sent_on="2026-03-20", tracking="DHL 123")
