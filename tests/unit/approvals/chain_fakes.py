"""Fake activities of the approval chain (by the real names) on top of the shared fakes,
and drivers of a chain run; shared by the chain tests and the history recorder."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.exceptions import ApplicationError

from process_rules.approval_templates import ChainTemplate, parse_template
from tests.unit.workflows.fakes import DEAL_ID, DEAL_TITLE, HEAD, MANAGER, PIPELINE_ID, FakeServices
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
    FieldSpec,
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
    StageSpec,
)
from workflows.activities.types import DealInfo, GetDealInput, UserInfo
from workflows.kit.contracts import COMPLETE_TASK_UPDATE, STATE_QUERY, TaskAnswer, TaskAnswerResult
from workflows.processes.approval_chain import ApprovalChain, ChainInput, ChainState

ACCOUNTANT = UserInfo(id="u-acc", name="Anna Accountant")
ACCOUNTANT_2 = UserInfo(id="u-acc2", name="Boris Accountant")
ACCOUNTANT_3 = UserInfo(id="u-acc3", name="Vera Accountant")
LAWYER = UserInfo(id="u-law", name="Lev Lawyer")
OPERATOR = UserInfo(id="u-op", name="Oleg Operator")
SUBSTITUTE = UserInfo(id="u-sub", name="Sasha Substitute")
STRANGER = UserInfo(id="u-x", name="Xavier Stranger")
PEOPLE = {
    u.id: u
    for u in (MANAGER, HEAD, ACCOUNTANT, ACCOUNTANT_2, ACCOUNTANT_3, LAWYER, OPERATOR, SUBSTITUTE)
}
STAGE_NEW, STAGE_TERMS, STAGE_APPROVED, STAGE_LOST = "s-0", "s-1", "s-2", "s-9"


def pit2_template(**head_step: Any) -> ChainTemplate:
    """PIT-2 in miniature: head (limit, markup) → accounting → operator (number) → lawyer."""
    return parse_template(
        "pit2",
        "New client terms",
        {
            "steps": [
                {
                    "code": "head",
                    "name": "Head of sales",
                    "approvers": [{"kind": "head"}],
                    "editable_fields": ["credit_limit", "markup_group"],
                    **head_step,
                },
                {
                    "code": "accounting",
                    "name": "Deputy chief accountant",
                    "approvers": [{"kind": "role", "role": "deputy_chief_accountant"}],
                    "quorum": "any",
                },
                {
                    "code": "operator",
                    "name": "1C operator",
                    "approvers": [{"kind": "user", "user_id": OPERATOR.id}],
                    "required_fields": ["contract_number"],
                },
                {
                    "code": "lawyer",
                    "name": "Lawyer",
                    "approvers": [{"kind": "user", "user_id": LAWYER.id}],
                    "file_field": "contract_file",
                    "requires_file": True,
                },
            ],
            "on_approve": {"move_to_stage_id": STAGE_APPROVED, "task_title": "Terms approved"},
        },
    )


@dataclass
class ChainFakes:
    template: ChainTemplate = field(default_factory=pit2_template)
    roles: dict[str, list[str]] = field(
        default_factory=lambda: {"deputy_chief_accountant": [ACCOUNTANT.id]}
    )
    absent: dict[str, str] = field(default_factory=dict)  # user -> substitute
    deal_fields: dict[str, Any] = field(default_factory=lambda: {"credit_limit": "100000.00"})
    base: FakeServices = field(default_factory=FakeServices)
    refused_stages: set[str] = field(default_factory=set)  # moves the deal's rules refuse

    @property
    def calls(self) -> list[tuple[str, Any]]:
        return self.base.calls

    def of(self, name: str) -> list[Any]:
        return self.base.of(name)

    def activities(self) -> list[Callable[..., Any]]:
        shared = [a for a in self.base.activities() if a.__name__ != "get_deal"]
        return [
            *shared,
            self.get_deal,
            self.get_approval_template,
            self.get_pipeline_layout,
            self.resolve_approvers,
            self.previous_stage,
            self.move_deal,
            self.check_files,
            self.attach_files,
            self.open_request,
            self.start_round,
            self.assign_step,
            self.record_decision,
            self.close_round,
            self.get_contract,
            self.set_contract_status,
            self.add_contract_document,
        ]

    def _log(self, name: str, inp: Any) -> None:
        self.base.calls.append((name, inp))

    @activity.defn(name="get_deal")
    async def get_deal(self, inp: GetDealInput) -> DealInfo:
        self._log("get_deal", inp)
        return DealInfo(
            inp.deal_id, PIPELINE_ID, STAGE_TERMS, DEAL_TITLE, MANAGER.id, dict(self.deal_fields)
        )

    @activity.defn(name="get_approval_template")
    async def get_approval_template(self, inp: GetTemplateInput) -> ChainTemplate:
        self._log("get_approval_template", inp)
        return self.template

    @activity.defn(name="get_pipeline_layout")
    async def get_pipeline_layout(self, inp: DealRefInput) -> PipelineLayout:
        self._log("get_pipeline_layout", inp)
        return PipelineLayout(
            id=PIPELINE_ID,
            fields=[
                FieldSpec("credit_limit", "money"),
                FieldSpec("markup_group", "enum", ["A", "B", "C"]),
                FieldSpec("markup_period", "date"),
                FieldSpec("contract_number", "string"),
                FieldSpec("contract_file", "file"),
            ],
            stages=[
                StageSpec(STAGE_NEW, "New", "in_progress"),
                StageSpec(STAGE_TERMS, "Terms approval", "in_progress"),
                StageSpec(STAGE_APPROVED, "Terms approved", "in_progress"),
                StageSpec(STAGE_LOST, "Lost", "lost"),
            ],
        )

    @activity.defn(name="resolve_approvers")
    async def resolve_approvers(self, inp: ResolveApproversInput) -> list[Approver]:
        self._log("resolve_approvers", inp)
        ids: list[str] = []
        for rule in inp.rules:
            if rule.kind == "head":
                ids.append(HEAD.id)
            elif rule.kind == "user":
                ids.append(rule.user_id)
            elif rule.kind == "role":
                ids += self.roles[rule.role]
        return [Approver(i, self._name(i), self.absent.get(i, "")) for i in ids]

    def _name(self, user_id: str) -> str:
        return PEOPLE[user_id].name if user_id in PEOPLE else user_id

    @activity.defn(name="previous_stage")
    async def previous_stage(self, inp: DealRefInput) -> str:
        self._log("previous_stage", inp)
        return STAGE_NEW

    @activity.defn(name="move_deal")
    async def move_deal(self, inp: MoveDealInput) -> None:
        if inp.stage_id in self.refused_stages:
            raise ApplicationError(
                "fields.inn: is required in this stage", type="ValidationFailed", non_retryable=True
            )
        self._log("move_deal", inp)

    @activity.defn(name="check_files")
    async def check_files(self, inp: CheckFilesInput) -> None:
        self._log("check_files", inp)
        for file_id in inp.file_ids:
            if file_id.startswith("other"):
                raise ApplicationError(
                    f"file {file_id} is not a file of deal {inp.deal_id}",
                    type="InvalidData",
                    non_retryable=True,
                )

    @activity.defn(name="attach_files")
    async def attach_files(self, inp: AttachFilesInput) -> None:
        self._log("attach_files", inp)

    @activity.defn(name="open_request")
    async def open_request(self, inp: OpenRequestInput) -> RequestRef:
        self._log("open_request", inp)
        return RequestRef("r1")

    @activity.defn(name="start_round")
    async def start_round(self, inp: RoundInput) -> None:
        self._log("start_round", inp)

    @activity.defn(name="assign_step")
    async def assign_step(self, inp: AssignStepInput) -> None:
        self._log("assign_step", inp)

    @activity.defn(name="record_decision")
    async def record_decision(self, inp: RecordDecisionInput) -> DecisionRef:
        self._log("record_decision", inp)
        return DecisionRef(f"d{len(self.of('record_decision'))}")

    @activity.defn(name="close_round")
    async def close_round(self, inp: CloseRoundInput) -> None:
        self._log("close_round", inp)

    @activity.defn(name="get_contract")
    async def get_contract(self, inp: GetContractInput) -> ContractInfo:
        self._log("get_contract", inp)
        return ContractInfo(inp.contract_id, DEAL_ID, "supply", "pit2", "draft", MANAGER.id)

    @activity.defn(name="set_contract_status")
    async def set_contract_status(self, inp: SetContractStatusInput) -> None:
        self._log("set_contract_status", inp)

    @activity.defn(name="add_contract_document")
    async def add_contract_document(self, inp: AddContractDocumentInput) -> None:
        self._log("add_contract_document", inp)

    # ---- looking at what the chain did ----
    def tasks_of(self, kind: str) -> list[Any]:
        return [t for t in self.of("create_task") if t.kind == kind]

    def task_id(self, task: Any) -> str:
        return self.base._task_ids[task.idempotency_key]


async def start_chain(
    client: Client, task_queue: str, *, workflow_id: str | None = None
) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        ApprovalChain.run,
        ChainInput(
            deal_id=DEAL_ID,
            pipeline_id=PIPELINE_ID,
            initiator_id=MANAGER.id,
            template_code="pit2",
        ),
        id=workflow_id or f"deal-{DEAL_ID}/approval-chain/{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
    )


async def chain_state(handle: WorkflowHandle[Any, Any]) -> ChainState:
    result: ChainState = await handle.query(STATE_QUERY, result_type=ChainState)
    return result


async def decide(
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
