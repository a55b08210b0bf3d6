"""The process registry the gateway and the worker share: which processes exist, how their
parameters are checked, and how a run is started, listed and answered."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypedDict

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from workflows import (
    approval_chain,
    client_onboarding,
    contract_approval,
    expense_payment,
    sample_return,
    supplier_payment,
)
from workflows.contracts import (
    COMPLETE_TASK_UPDATE,
    DEAL_ID,
    PIPELINE_ID,
    PROCESS_NAME,
    STAGE,
    ProcessInput,
    TaskAnswer,
    TaskAnswerResult,
)

DEFAULT_TASK_QUEUE = "dealflow"
MAX_RUNS_PER_DEAL = 200  # of one process on one deal; bounds the search for a free id
START_KEY_MEMO = "start_key"  # memo of a run started for a key (e.g. an event and a rule)


@dataclass(frozen=True)
class ProcessDefinition:
    name: str
    workflow: type  # the @workflow.defn class
    parse_params: Callable[[Mapping[str, Any]], object]  # raises ValueError


PROCESSES: dict[str, ProcessDefinition] = {
    sample_return.PROCESS: ProcessDefinition(
        name=sample_return.PROCESS,
        workflow=sample_return.SampleReturn,
        parse_params=sample_return.parse_params,
    ),
    client_onboarding.PROCESS: ProcessDefinition(
        name=client_onboarding.PROCESS,
        workflow=client_onboarding.ClientOnboarding,
        parse_params=client_onboarding.parse_params,
    ),
    contract_approval.PROCESS: ProcessDefinition(
        name=contract_approval.PROCESS,
        workflow=contract_approval.ContractApproval,
        parse_params=contract_approval.parse_params,
    ),
}

# Processes a spend's submission starts (not through a deal's processes): kind -> process.
SPEND_PROCESSES: dict[str, ProcessDefinition] = {
    "supplier_payment": ProcessDefinition(
        name=supplier_payment.PROCESS,
        workflow=supplier_payment.SupplierPayment,
        parse_params=supplier_payment.parse_params,
    ),
    "expense": ProcessDefinition(
        name=expense_payment.PROCESS,
        workflow=expense_payment.ExpensePayment,
        parse_params=expense_payment.parse_params,
    ),
}

# Workflows the worker runs: the startable processes and the pieces they start as children.
WORKFLOWS: Sequence[type] = [
    *(p.workflow for p in PROCESSES.values()),
    *(p.workflow for p in SPEND_PROCESSES.values()),
    approval_chain.ApprovalChain,
]


class UnknownProcess(ValueError):
    """No process of that name."""


class TooManyRuns(RuntimeError):
    """Every workflow id for the process on this deal is taken."""


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


def validate_params(process: str, params: Mapping[str, Any]) -> None:
    """UnknownProcess or ValueError with a message for the client when the start is bad."""
    get_process(process).parse_params(params)


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
    definition = get_process(process)
    definition.parse_params(params)
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
) -> str:
    """Start the next run of a submitted spend's process; its id: `deal-42/supplier-payment/1`,
    or `expense-7/expense-payment/1` for an expense not linked to a deal."""
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
    started = await _start_next(
        client, prefix, process.name, start_input, TypedSearchAttributes(pairs), task_queue
    )
    return started.workflow_id


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
    quoted = str(deal_id).replace("\\", "\\\\").replace('"', '\\"')
    runs: list[ProcessRun] = []
    async for execution in client.list_workflows(f'DealId = "{quoted}"'):
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


async def answer_task(client: Client, *, workflow_id: str, answer: TaskAnswer) -> TaskAnswerResult:
    """Send a person's answer to the process waiting on the task.

    A refusal raises temporalio.client.WorkflowUpdateFailedError whose `cause` is an
    ApplicationError with `type` one of contracts.AnswerRefused."""
    handle = client.get_workflow_handle(workflow_id)
    result: TaskAnswerResult = await handle.execute_update(
        COMPLETE_TASK_UPDATE, answer, result_type=TaskAnswerResult
    )
    return result
