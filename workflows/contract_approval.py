"""SM-4 Contract approval: a contract of the registry goes through the chain of its type
(head of sales → accounting → CEO); a rejection returns it to the manager, who resubmits;
once approved the manager sends it and uploads the scan signed by both sides: signed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.human_task import AnswerField, AnswerRecord, HumanTasks, OpenTask, TaskSpec, refuse

with workflow.unsafe.imports_passed_through():
    from workflows.activities import approval_calls as ac
    from workflows.activities.approval_types import (
        AddContractDocumentInput,
        AttachFilesInput,
        CheckFilesInput,
        GetContractInput,
        SetContractStatusInput,
    )
    from workflows.approval_chain import run_chain

    # From their own module: the sandbox resolves a payload type's hints through it.
    from workflows.approval_chain_types import ChainInput, ChainResult
    from workflows.contracts import (
        COMPLETE_TASK_UPDATE,
        STAGE,
        STATE_QUERY,
        AnswerRefused,
        ProcessInput,
        TaskAnswer,
        TaskAnswerResult,
    )

PROCESS = "contract_approval"
SEND, SIGNED = "contract.send", "contract.signed_scan"


@dataclass
class ContractApprovalParams:
    contract_id: str


def parse_params(params: Mapping[str, Any]) -> ContractApprovalParams:
    """Check the start parameters; ValueError says what is wrong."""
    unknown = sorted(set(params) - {"contract_id"})
    if unknown:
        raise ValueError(f"unknown parameter(s): {', '.join(unknown)}; expected: contract_id")
    raw = params.get("contract_id")
    if isinstance(raw, bool) or not str(raw or "").isdigit():
        raise ValueError("contract_id is required: the id of the contract to approve")
    return ContractApprovalParams(str(raw))


@dataclass
class ContractApprovalResult:
    contract_id: str
    status: str
    chain: ChainResult
    answers: list[AnswerRecord] = field(default_factory=list)


@dataclass
class ContractApprovalState:
    stage: str
    open_task_ids: list[str]


@workflow.defn(name=PROCESS)
class ContractApproval:
    @workflow.init
    def __init__(self, inp: ProcessInput) -> None:
        self._input = inp
        self.tasks = HumanTasks(inp.deal_id)
        self._stage = "new"

    @workflow.run
    async def run(self, inp: ProcessInput) -> ContractApprovalResult:
        try:
            contract_id = parse_params(inp.params).contract_id
        except ValueError as exc:
            raise ApplicationError(str(exc), type="InvalidParams", non_retryable=True) from exc
        contract = await ac.get_contract(GetContractInput(contract_id))
        if contract.deal_id != inp.deal_id or not contract.template_code:
            raise ApplicationError(
                f"contract {contract_id} is not a contract of deal {inp.deal_id} with an "
                "approval chain for its type",
                type="InvalidParams",
                non_retryable=True,
            )
        self._set_stage("in_approval")
        await ac.set_contract_status(SetContractStatusInput(contract_id, "in_approval"))
        chain = await run_chain(
            ChainInput(
                deal_id=inp.deal_id,
                pipeline_id=inp.pipeline_id,
                initiator_id=inp.initiator_id,
                template_code=contract.template_code,
                title=f"Contract {contract.title or contract.number or contract_id}",
                contract_id=contract_id,
            )
        )
        if chain.outcome != "approved":
            await ac.set_contract_status(SetContractStatusInput(contract_id, "rejected"))
            self._set_stage("rejected")
            return ContractApprovalResult(contract_id, "rejected", chain)
        await ac.set_contract_status(
            SetContractStatusInput(contract_id, "approved", chain.request_id)
        )
        self._set_stage("approved")
        manager = contract.manager_id
        send = await self.tasks.start(
            TaskSpec(
                step="send",
                kind=SEND,
                assignee_id=manager,
                title="Send the approved contract to the counterparty",
                outcomes=["sent"],
                next_stage={"sent": "sent"},
            )
        )
        await self._answer(send)
        await ac.set_contract_status(SetContractStatusInput(contract_id, "sent"))
        scan = await self.tasks.start(
            TaskSpec(
                step="signed_scan",
                kind=SIGNED,
                assignee_id=manager,
                title="Upload the scan signed by both sides",
                outcomes=["signed"],
                fields=[AnswerField("file_id")],
                next_stage={"signed": "signed"},
            )
        )
        answer = await self._answer(scan)
        scan_id = str(answer.data["file_id"])
        await ac.add_contract_document(
            AddContractDocumentInput(contract_id, scan_id, "signed_scan")
        )
        await ac.attach_files(AttachFilesInput(inp.deal_id, [scan_id], "contract", contract_id))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return ContractApprovalResult(contract_id, "signed", chain, list(self.tasks.answers))

    @workflow.update(name=COMPLETE_TASK_UPDATE)
    async def complete_task(self, answer: TaskAnswer) -> TaskAnswerResult:
        task = self.tasks.validate(answer)
        if task.spec.kind == SIGNED:
            try:
                file_ids = [str(answer.data["file_id"])]
                await ac.check_files(CheckFilesInput(self._input.deal_id, file_ids))
            except ActivityError as exc:
                raise refuse(f"file_id: {exc.cause or exc}", AnswerRefused.INVALID_DATA) from exc
        await self.tasks.complete(answer)
        self._stage = task.spec.next_stage.get(answer.outcome, self._stage)
        return TaskAnswerResult(task_id=task.task_id, outcome=answer.outcome, stage=self._stage)

    @complete_task.validator
    def validate_answer(self, answer: TaskAnswer) -> None:
        self.tasks.validate(answer)

    @workflow.query(name=STATE_QUERY)
    def state(self) -> ContractApprovalState:
        return ContractApprovalState(self._stage, list(self.tasks.open))

    async def _answer(self, task: OpenTask) -> AnswerRecord:
        answer = await self.tasks.answer_of(task)
        assert answer is not None
        return answer

    def _set_stage(self, stage: str) -> None:
        self._stage = stage
        workflow.upsert_search_attributes([STAGE.value_set(stage)])
