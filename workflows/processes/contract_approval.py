"""SM-4 Contract approval: a contract of the registry goes through the chain of its type
(head of sales → accounting → CEO); a rejection returns it to the manager, who resubmits;
once approved the manager sends it and uploads the scan signed by both sides: signed."""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.kit import AnswerField, AnswerRecord, Process, TaskSpec
from workflows.kit import process as declare
from workflows.kit.params import RecordId, param
from workflows.kit.process import FINISH_CLEARS_ASSIGNEE, STAGE_ON_ANSWER

with workflow.unsafe.imports_passed_through():
    from workflows.activities import approval_calls as ac
    from workflows.activities.approval_types import (
        AddContractDocumentInput,
        AttachFilesInput,
        GetContractInput,
        SetContractStatusInput,
    )

    # From their own module: the sandbox resolves a payload type's hints through it.
    from workflows.approval_chain_types import ChainInput, ChainResult
    from workflows.kit.contracts import ProcessInput
    from workflows.processes.approval_chain import run_chain

PROCESS = "contract_approval"
SEND, SIGNED = "contract.send", "contract.signed_scan"


@dataclass
class ContractApprovalParams:
    contract_id: RecordId = param(help="the id of the contract to approve")


@dataclass
class ContractApprovalResult:
    contract_id: str
    status: str
    chain: ChainResult
    answers: list[AnswerRecord] = field(default_factory=list)


@declare(PROCESS, params=ContractApprovalParams)
class ContractApproval(Process):
    """SM-4: a contract through its type's chain, then sent and its signed scan filed."""

    kit_patches = frozenset({STAGE_ON_ANSWER, FINISH_CLEARS_ASSIGNEE})

    @workflow.run
    async def run(self, inp: ProcessInput) -> ContractApprovalResult:
        contract_id = self.params.contract_id
        contract = await ac.get_contract(GetContractInput(contract_id))
        if contract.deal_id != inp.deal_id or not contract.template_code:
            raise ApplicationError(
                f"contract {contract_id} is not a contract of deal {inp.deal_id} with an "
                "approval chain for its type",
                type="InvalidParams",
                non_retryable=True,
            )
        self.set_stage("in_approval")
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
            self.set_stage("rejected")
            await self.finish("rejected")
            return ContractApprovalResult(contract_id, "rejected", chain)
        await ac.set_contract_status(
            SetContractStatusInput(contract_id, "approved", chain.request_id)
        )
        self.set_stage("approved")
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
        await self.answer(send)
        await ac.set_contract_status(SetContractStatusInput(contract_id, "sent"))
        scan = await self.tasks.start(
            TaskSpec(
                step="signed_scan",
                kind=SIGNED,
                assignee_id=manager,
                title="Upload the scan signed by both sides",
                outcomes=["signed"],
                fields=[AnswerField("file_id", "file")],
                next_stage={"signed": "signed"},
            )
        )
        answer = await self.answer(scan)
        scan_id = str(answer.data["file_id"])
        await ac.add_contract_document(
            AddContractDocumentInput(contract_id, scan_id, "signed_scan")
        )
        await ac.attach_files(AttachFilesInput(inp.deal_id, [scan_id], "contract", contract_id))
        await self.finish("signed")
        return ContractApprovalResult(contract_id, "signed", chain, list(self.tasks.answers))
