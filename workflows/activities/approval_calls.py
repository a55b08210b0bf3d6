"""Workflow-side typed calls of the approval activities, by name (see calls.py)."""

from __future__ import annotations

from process_rules.approval_templates import ChainTemplate
from workflows.activities.approval_types import (
    AddContractDocumentInput,
    Approver,
    AssignStepInput,
    AttachFilesInput,
    CheckFilesInput,
    CloseRoundInput,
    ContractInfo,
    DealRefInput,
    DecisionRef,
    GetContractInput,
    GetTemplateInput,
    MoveDealInput,
    OpenRequestInput,
    PipelineLayout,
    RecordDecisionInput,
    RequestRef,
    ResolveApproversInput,
    RoundInput,
    SetContractStatusInput,
)
from workflows.activities.retry import T, call


async def _run(name: str, arg: object, result_type: type[T], *, quick: bool = False) -> T:
    return await call(name, arg, result_type, in_answer=quick)


async def get_approval_template(inp: GetTemplateInput) -> ChainTemplate:
    return await _run("get_approval_template", inp, ChainTemplate)


async def get_pipeline_layout(inp: DealRefInput) -> PipelineLayout:
    return await _run("get_pipeline_layout", inp, PipelineLayout)


async def previous_stage(inp: DealRefInput) -> str:
    return await _run("previous_stage", inp, str)


async def resolve_approvers(inp: ResolveApproversInput) -> list[Approver]:
    return await _run("resolve_approvers", inp, list[Approver])


async def move_deal(inp: MoveDealInput, *, quick: bool = False) -> None:
    """`quick` inside an Update the gateway waits on: give up within seconds."""
    await _run("move_deal", inp, type(None), quick=quick)


async def check_files(inp: CheckFilesInput) -> None:
    await _run("check_files", inp, type(None), quick=True)


async def attach_files(inp: AttachFilesInput) -> None:
    await _run("attach_files", inp, type(None))


async def open_request(inp: OpenRequestInput) -> RequestRef:
    return await _run("open_request", inp, RequestRef)


async def start_round(inp: RoundInput) -> None:
    await _run("start_round", inp, type(None))


async def assign_step(inp: AssignStepInput) -> None:
    await _run("assign_step", inp, type(None))


async def record_decision(inp: RecordDecisionInput) -> DecisionRef:
    return await _run("record_decision", inp, DecisionRef)


async def close_round(inp: CloseRoundInput) -> None:
    await _run("close_round", inp, type(None))


async def get_contract(inp: GetContractInput) -> ContractInfo:
    return await _run("get_contract", inp, ContractInfo)


async def set_contract_status(inp: SetContractStatusInput) -> None:
    await _run("set_contract_status", inp, type(None))


async def add_contract_document(inp: AddContractDocumentInput) -> None:
    await _run("add_contract_document", inp, type(None))
