"""The process registry the gateway calls: start the next run, list a deal's runs."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from workflows import api as processes
from workflows.kit.contracts import DEAL_ID, PIPELINE_ID, PROCESS_NAME, STAGE


async def test_start_process_takes_the_next_free_number(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    deal = SimpleNamespace(id=f"d{task_queue[-8:]}", pipeline_id="7")
    params = {"return_by": "2030-01-31"}
    first = await processes.start_process(
        env.client,
        deal=deal,
        process="sample_return",
        params=params,
        initiator_id=5,
        task_queue=task_queue,
    )
    second = await processes.start_process(
        env.client,
        deal_id=deal.id,
        pipeline_id="7",
        process="sample_return",
        params=params,
        initiator_id="5",
        task_queue=task_queue,
    )
    assert (first, second) == (
        f"deal-{deal.id}/sample-return/1",
        f"deal-{deal.id}/sample-return/2",
    )
    described = await env.client.get_workflow_handle(second).describe()
    attributes = described.typed_search_attributes
    assert (attributes.get(DEAL_ID), attributes.get(PIPELINE_ID)) == (deal.id, "7")
    assert attributes.get(PROCESS_NAME) == "sample_return"
    assert described.task_queue == task_queue
    for workflow_id in (first, second):
        await env.client.get_workflow_handle(workflow_id).terminate("test over")


@pytest.mark.parametrize(
    ("process", "params", "error", "message"),
    [
        ("sample_return", {}, ValueError, "return_by is required"),
        ("teleport", {}, processes.UnknownProcess, "unknown process 'teleport'"),
    ],
)
async def test_start_process_refuses_bad_input_before_starting(
    process: str, params: dict[str, Any], error: type[Exception], message: str
) -> None:
    client: Any = SimpleNamespace()  # any call on it would fail: nothing may be started
    with pytest.raises(error, match=message):
        await processes.start_process(
            client, deal_id="1", pipeline_id="2", process=process, params=params, initiator_id=1
        )


async def test_start_process_needs_a_deal() -> None:
    client: Any = SimpleNamespace()
    with pytest.raises(TypeError):
        await processes.start_process(
            client, process="sample_return", params={"return_by": "2030-01-01"}, initiator_id=1
        )


class FakeVisibility:
    def __init__(self, executions: list[Any]) -> None:
        self.executions = executions
        self.queries: list[str] = []

    async def list_workflows(self, query: str) -> Any:
        self.queries.append(query)
        for execution in self.executions:
            yield execution


def execution(workflow_id: str, day: int, stage: str | None, running: bool) -> Any:
    pairs = [SearchAttributePair(PROCESS_NAME, "sample_return")]
    if stage:
        pairs.append(SearchAttributePair(STAGE, stage))
    return SimpleNamespace(
        id=workflow_id,
        workflow_type="sample_return",
        status=WorkflowExecutionStatus.RUNNING if running else WorkflowExecutionStatus.COMPLETED,
        start_time=datetime(2026, 3, day, tzinfo=UTC),
        close_time=None if running else datetime(2026, 3, day + 1, tzinfo=UTC),
        typed_search_attributes=TypedSearchAttributes(pairs),
    )


async def test_list_processes_asks_visibility_for_the_deal() -> None:
    visibility = FakeVisibility(
        [
            execution("deal-4/sample-return/2", 9, "new", running=True),
            execution("deal-4/sample-return/1", 2, "sent_to_supplier", running=False),
        ]
    )
    client: Client = visibility  # type: ignore[assignment]
    runs = await processes.list_processes(client, 4)
    assert visibility.queries == ['DealId = "4"']
    assert [(r["id"], r["status"], r["stage"]) for r in runs] == [
        ("deal-4/sample-return/1", "completed", "sent_to_supplier"),
        ("deal-4/sample-return/2", "running", "new"),
    ]
    assert runs[0]["process"] == "sample_return"
    assert runs[0]["started_at"] == datetime(2026, 3, 2, tzinfo=UTC)


async def test_list_processes_quotes_the_deal_id() -> None:
    visibility = FakeVisibility([])
    client: Client = visibility  # type: ignore[assignment]
    await processes.list_processes(client, 'x" OR DealId != "')
    assert visibility.queries == ['DealId = "x\\" OR DealId != \\""']


async def test_a_start_asked_for_again_with_its_key_starts_nothing(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    deal = SimpleNamespace(id=f"k{task_queue[-8:]}", pipeline_id="7")
    start = {
        "deal": deal,
        "process": "sample_return",
        "params": {"return_by": "2030-01-31"},
        "initiator_id": 5,
        "task_queue": task_queue,
    }
    plain = await processes.start_process(env.client, **start)
    first = await processes.start_process_once(env.client, **start, start_key="event-1/rule-7")
    again = await processes.start_process_once(env.client, **start, start_key="event-1/rule-7")
    assert (first.workflow_id, first.started) == (f"deal-{deal.id}/sample-return/2", True)
    assert (again.workflow_id, again.started, again.reason) == (
        first.workflow_id,
        False,
        "duplicate",
    )
    other = await processes.start_process_once(env.client, **start, start_key="event-2/rule-7")
    assert other.workflow_id == f"deal-{deal.id}/sample-return/3"

    running = await processes.start_process_once(
        env.client, **start, start_key="event-3/rule-7", unless_running=True
    )
    assert (running.workflow_id, running.started, running.reason) == (plain, False, "running")
    for n in (1, 2, 3):
        await env.client.get_workflow_handle(f"deal-{deal.id}/sample-return/{n}").terminate("over")
    after = await processes.start_process_once(
        env.client, **start, start_key="event-3/rule-7", unless_running=True
    )
    assert (after.workflow_id, after.started) == (f"deal-{deal.id}/sample-return/4", True)
    await env.client.get_workflow_handle(after.workflow_id).terminate("test over")
