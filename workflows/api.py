"""The one module of workflows/ the gateway (and the worker's consumers) use: which
processes exist, and starting, listing, reading and answering their runs.

A person's answer to a task goes to the process waiting on it as the `complete_task`
Update; the process's validator refuses a wrong actor, outcome or data at once, and
`answer_task` raises `AnswerRefusedError` saying how (the gateway maps it to a status).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypedDict

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from workflows.kit import params as params_
from workflows.kit.contracts import (
    COMPLETE_TASK_UPDATE,
    DEAL_ID,
    LEAD_ID,
    PIPELINE_ID,
    PROCESS_NAME,
    STAGE,
    STATE_QUERY,
    AnswerRefused,
    DeadlineMove,
    ProcessInput,
    TaskAnswer,
    TaskAnswerResult,
)
from workflows.kit.registry import ProcessDefinition
from workflows.processes import declared

__all__ = [
    "AnswerRefused",
    "AnswerRefusedError",
    "ProcessGone",
    "ProcessRun",
    "StartResult",
    "TaskAnswer",
    "TaskAnswerResult",
    "TooManyRuns",
    "UnknownProcess",
    "answer_task",
    "get_lead_run",
    "get_process",
    "get_run",
    "list_lead_processes",
    "list_processes",
    "move_deadline",
    "process_catalog",
    "running_processes",
    "start_lead_process",
    "start_process",
    "start_process_once",
    "start_spend_process",
    "submission_key",
    "validate_params",
]

DEFAULT_TASK_QUEUE = "dealflow"
MAX_RUNS_PER_DEAL = 200  # of one process on one deal; bounds the search for a free id
START_KEY_MEMO = "start_key"  # memo of a run started for a key (e.g. an event and a rule)
# A task is listed open as soon as the activity creating it commits, a moment before the
# workflow has recorded that activity's result: a quick answer waits (about 1.5 s in all).
_NOT_YET_OPEN_RETRIES = (0.05, 0.1, 0.2, 0.4, 0.8)

_ALL = declared()
PROCESSES: dict[str, ProcessDefinition] = {n: d for n, d in _ALL.items() if d.starts == "deal"}
LEAD_PROCESSES: dict[str, ProcessDefinition] = {n: d for n, d in _ALL.items() if d.starts == "lead"}
SPEND_PROCESSES: dict[str, ProcessDefinition] = {
    d.spend_kind: d for d in _ALL.values() if d.starts == "spend"
}
WORKFLOWS: list[type] = [d.workflow for d in _ALL.values()]


class UnknownProcess(ValueError):
    """No process of that name."""


class TooManyRuns(RuntimeError):
    """Every workflow id for the process on this deal is taken."""


class AnswerRefusedError(Exception):
    """The process refused a person's answer: `kind` is one of AnswerRefused."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


class ProcessGone(Exception):
    """The process waiting on the task has already finished."""


class DealRef(Protocol):
    """What start_process needs of a deal (a deals_pb2.Deal fits)."""

    @property
    def id(self) -> str | int: ...

    @property
    def pipeline_id(self) -> str | int: ...


class ProcessRun(TypedDict):
    """One run of a process on a deal (a dict, so the gateway can validate it as is)."""

    id: str  # the workflow id
    process: str
    status: str  # running | completed | failed | canceled | terminated | timed_out | ...
    started_at: datetime
    closed_at: datetime | None
    stage: str | None


def get_process(name: str) -> ProcessDefinition:
    try:
        return PROCESSES[name]
    except KeyError:
        known = ", ".join(sorted(PROCESSES))
        raise UnknownProcess(f"unknown process {name!r}; known: {known}") from None


def get_lead_process(name: str) -> ProcessDefinition:
    try:
        return LEAD_PROCESSES[name]
    except KeyError:
        known = ", ".join(sorted(LEAD_PROCESSES))
        raise UnknownProcess(f"unknown lead process {name!r}; known: {known}") from None


def validate_params(process: str, params: Mapping[str, Any]) -> None:
    """UnknownProcess or ValueError with a message for the client when the start is bad."""
    get_process(process).parse_params(params)


def process_catalog(on: str = "deal") -> list[dict[str, Any]]:
    """The processes a deal (or, `on="lead"`, a lead) can start: name, summary, params."""
    kinds = LEAD_PROCESSES if on == "lead" else PROCESSES
    return [
        {"name": d.name, "summary": d.summary, "params": params_.describe(d.params)}
        for d in sorted(kinds.values(), key=lambda d: d.name)
    ]


@dataclass(frozen=True)
class StartResult:
    """What start_process_once did: started `workflow_id`, or found it there already."""

    workflow_id: str
    started: bool
    reason: str = ""  # when not started: "duplicate" (this key's run) | "running"


async def start_process(
    client: Client,
    *,
    process: str,
    params: Mapping[str, Any],
    initiator_id: str | int,
    deal: DealRef | None = None,
    deal_id: str | int | None = None,
    pipeline_id: str | int | None = None,
    task_queue: str = DEFAULT_TASK_QUEUE,
) -> str:
    """Start the next run of `process` on a deal (`deal-42/sample-return/<n>`); its id.

    The deal is given either as `deal` (anything with `id` and `pipeline_id`, e.g. a
    deals_pb2.Deal) or as `deal_id` + `pipeline_id`. Bad params raise ValueError."""
    started = await start_process_once(
        client,
        process=process,
        params=params,
        initiator_id=initiator_id,
        deal=deal,
        deal_id=deal_id,
        pipeline_id=pipeline_id,
        task_queue=task_queue,
    )
    return started.workflow_id


async def start_process_once(
    client: Client,
    *,
    process: str,
    params: Mapping[str, Any],
    initiator_id: str | int,
    deal: DealRef | None = None,
    deal_id: str | int | None = None,
    pipeline_id: str | int | None = None,
    task_queue: str = DEFAULT_TASK_QUEUE,
    start_key: str = "",
    unless_running: bool = False,
    summary: str = "",
) -> StartResult:
    """start_process, for a start that may be asked for again (a redelivered event).

    The run started for `start_key` carries it in its memo, so asking again with the same
    key finds that run among the taken ids and starts nothing; with `unless_running`, a
    running run of the process on the deal means nothing new starts either."""
    if deal is not None:
        deal_id, pipeline_id = deal.id, deal.pipeline_id
    if deal_id in (None, "") or pipeline_id in (None, ""):
        raise TypeError("start_process needs `deal` or both `deal_id` and `pipeline_id`")
    get_process(process).parse_params(params)
    start_input = ProcessInput(
        deal_id=str(deal_id),
        pipeline_id=str(pipeline_id),
        initiator_id=str(initiator_id),
        params=dict(params),
    )
    attributes = TypedSearchAttributes(
        [
            SearchAttributePair(DEAL_ID, str(deal_id)),
            SearchAttributePair(PIPELINE_ID, str(pipeline_id)),
            SearchAttributePair(PROCESS_NAME, process),
        ]
    )
    return await _start_next(
        client,
        f"deal-{deal_id}",
        process,
        start_input,
        attributes,
        task_queue,
        start_key=start_key,
        unless_running=unless_running,
        summary=summary,
    )


async def start_spend_process(
    client: Client,
    *,
    kind: str,
    spend_id: str | int,
    initiator_id: str | int,
    deal_id: str | int | None = None,
    pipeline_id: str | int | None = None,
    task_queue: str = DEFAULT_TASK_QUEUE,
    start_key: str = "",
) -> StartResult:
    """Start the next run of a submitted spend's process: `deal-42/supplier-payment/1`, or
    `expense-7/expense-payment/1` for an expense not linked to a deal. `start_key` names
    the submission, so the gateway and the worker's consumer may both ask: one run."""
    process = SPEND_PROCESSES.get(kind)
    if process is None:
        raise UnknownProcess(f"no process for spends of kind {kind!r}")
    start_input = ProcessInput(
        deal_id=str(deal_id or ""),
        pipeline_id=str(pipeline_id or ""),
        initiator_id=str(initiator_id),
        params={"spend_id": str(spend_id)},
    )
    pairs = [SearchAttributePair(PROCESS_NAME, process.name)]
    if deal_id:
        pairs.append(SearchAttributePair(DEAL_ID, str(deal_id)))
        pairs.append(SearchAttributePair(PIPELINE_ID, str(pipeline_id)))
    prefix = f"deal-{deal_id}" if deal_id else f"{kind.replace('_', '-')}-{spend_id}"
    return await _start_next(
        client,
        prefix,
        process.name,
        start_input,
        TypedSearchAttributes(pairs),
        task_queue,
        start_key=start_key,
    )


async def start_lead_process(
    client: Client,
    *,
    process: str,
    params: Mapping[str, Any],
    initiator_id: str | int,
    lead_id: str | int,
    pipeline_id: str | int,
    task_queue: str = DEFAULT_TASK_QUEUE,
    start_key: str = "",
) -> StartResult:
    """Start the next run of a lead's process: `lead-7/lead-proposal/1`, found by `LeadId`.
    Bad params raise ValueError; a retry with the same `start_key` finds its run."""
    get_lead_process(process).parse_params(params)
    start_input = ProcessInput(
        deal_id="",
        pipeline_id=str(pipeline_id),
        initiator_id=str(initiator_id),
        params=dict(params),
        lead_id=str(lead_id),
    )
    attributes = TypedSearchAttributes(
        [
            SearchAttributePair(LEAD_ID, str(lead_id)),
            SearchAttributePair(PIPELINE_ID, str(pipeline_id)),
            SearchAttributePair(PROCESS_NAME, process),
        ]
    )
    return await _start_next(
        client, f"lead-{lead_id}", process, start_input, attributes, task_queue,
        start_key=start_key,
    )  # fmt: skip


def submission_key(kind: str, spend_id: str | int, submitted_at: str) -> str:
    """The start key of a spend's submission (its id and the time it was submitted), the
    same whether the gateway or the worker's consumer of `finance.*.submitted` starts it."""
    return f"{kind}/{spend_id}/submitted@{submitted_at}"


async def _start_next(
    client: Client,
    prefix: str,
    process: str,
    start_input: ProcessInput,
    attributes: TypedSearchAttributes,
    task_queue: str,
    *,
    start_key: str = "",
    unless_running: bool = False,
    summary: str = "",
) -> StartResult:
    """Start `<prefix>/<process>/<n>` with the first free n. A taken id is described (the
    execution's own record, not the eventually consistent visibility list, so an immediate
    retry sees it) when a start key or `unless_running` asks what it holds."""
    for n in range(1, MAX_RUNS_PER_DEAL + 1):
        workflow_id = f"{prefix}/{process.replace('_', '-')}/{n}"
        try:
            await client.start_workflow(
                process,
                start_input,
                id=workflow_id,
                task_queue=task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=attributes,
                memo={START_KEY_MEMO: start_key} if start_key else None,
                static_summary=summary or None,
            )
        except WorkflowAlreadyStartedError:
            if start_key or unless_running:
                taken = await client.get_workflow_handle(workflow_id).describe()
                if start_key and await taken.memo_value(START_KEY_MEMO, "") == start_key:
                    return StartResult(workflow_id, started=False, reason="duplicate")
                if unless_running and taken.status == WorkflowExecutionStatus.RUNNING:
                    return StartResult(workflow_id, started=False, reason="running")
            continue
        return StartResult(workflow_id, started=True)
    raise TooManyRuns(f"{prefix} already has {MAX_RUNS_PER_DEAL} runs of {process}")


async def list_processes(client: Client, deal_id: str | int) -> list[ProcessRun]:
    """The deal's process runs, oldest first (from Temporal visibility: eventually consistent)."""
    return await _runs_of(client, DEAL_ID, deal_id)


async def list_lead_processes(client: Client, lead_id: str | int) -> list[ProcessRun]:
    """The lead's process runs, oldest first."""
    return await _runs_of(client, LEAD_ID, lead_id)


async def _runs_of(
    client: Client, record: SearchAttributeKey[str], record_id: str | int
) -> list[ProcessRun]:
    runs: list[ProcessRun] = []
    async for execution in client.list_workflows(f'{record.name} = "{_quoted(record_id)}"'):
        attributes = execution.typed_search_attributes
        runs.append(
            ProcessRun(
                id=execution.id,
                process=attributes.get(PROCESS_NAME) or execution.workflow_type,
                status=execution.status.name.lower() if execution.status else "unknown",
                started_at=execution.start_time,
                closed_at=execution.close_time,
                stage=attributes.get(STAGE),
            )
        )
    return sorted(runs, key=lambda r: r["started_at"])


async def running_processes(client: Client, deal_id: str | int) -> list[str]:
    """The ids of the deal's running processes (Temporal visibility)."""
    query = f'DealId = "{_quoted(deal_id)}" AND ExecutionStatus = "Running"'
    return [execution.id async for execution in client.list_workflows(query)]


async def get_run(client: Client, deal_id: str | int, workflow_id: str) -> dict[str, Any] | None:
    """One run of the deal with its state (stage, open tasks, every answer, deadlines and
    the process's own details such as review rounds); None when it is not the deal's."""
    return await _run_of(client, DEAL_ID, deal_id, workflow_id)


async def get_lead_run(
    client: Client, lead_id: str | int, workflow_id: str
) -> dict[str, Any] | None:
    """One run of the lead's processes with its state; None when it is not the lead's."""
    return await _run_of(client, LEAD_ID, lead_id, workflow_id)


async def _run_of(
    client: Client, record: SearchAttributeKey[str], record_id: str | int, workflow_id: str
) -> dict[str, Any] | None:
    handle = client.get_workflow_handle(workflow_id)
    try:
        described = await handle.describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    attributes = described.typed_search_attributes
    if attributes.get(record) != str(record_id):
        return None
    state: Any = await handle.query(STATE_QUERY)
    return {
        "id": described.id,
        "process": attributes.get(PROCESS_NAME) or described.workflow_type,
        "status": described.status.name.lower() if described.status else "unknown",
        "started_at": described.start_time,
        "closed_at": described.close_time,
        "stage": attributes.get(STAGE),
        "state": state,
    }


async def move_deadline(client: Client, workflow_id: str, name: str, due: datetime | None) -> None:
    """Tell a running process that its deadline `name` moved (the `deadline_moved` Signal)."""
    await client.get_workflow_handle(workflow_id).signal("deadline_moved", DeadlineMove(name, due))


async def answer_task(
    client: Client,
    *,
    workflow_id: str,
    answer: TaskAnswer,
    listed_open: bool = True,
) -> TaskAnswerResult:
    """Send a person's answer to the process waiting on the task. Raises AnswerRefusedError
    (the validator or the answer's effects refused it), ProcessGone (the run is over)."""
    handle = client.get_workflow_handle(workflow_id)
    retries = _NOT_YET_OPEN_RETRIES if listed_open else ()
    for delay in (*retries, None):
        try:
            result: TaskAnswerResult = await handle.execute_update(
                COMPLETE_TASK_UPDATE, answer, result_type=TaskAnswerResult
            )
            return result
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            if not isinstance(cause, ApplicationError):
                raise RuntimeError(f"the complete_task update failed: {cause!r}") from exc
            not_yet = cause.type == AnswerRefused.TASK_NOT_OPEN
            if not (not_yet and delay is not None):
                raise AnswerRefusedError(
                    cause.type or AnswerRefused.TASK_NOT_OPEN, cause.message
                ) from exc
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise ProcessGone("the process waiting on this task has already finished") from exc
            raise
        await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _quoted(value: str | int) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"')
