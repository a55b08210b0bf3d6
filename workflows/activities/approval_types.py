"""Inputs and outputs of the approval activities: plain dataclasses (no gRPC), so the
approval chain's workflow file imports them freely."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from process_rules.approval_templates import ApproverRule


@dataclass
class GetTemplateInput:
    code: str


@dataclass
class FieldSpec:
    code: str
    type: str
    options: list[str] = field(default_factory=list)


@dataclass
class StageSpec:
    id: str
    name: str
    semantic: str


@dataclass
class PipelineLayout:
    id: str
    fields: list[FieldSpec] = field(default_factory=list)
    stages: list[StageSpec] = field(default_factory=list)

    def lost_stage(self) -> str:
        return next((s.id for s in self.stages if s.semantic == "lost"), "")


@dataclass
class DealRefInput:
    deal_id: str


@dataclass
class ResolveApproversInput:
    deal_id: str
    initiator_id: str
    rules: list[ApproverRule]
    deal_fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Approver:
    user_id: str
    name: str
    stand_in_id: str = ""  # set while the approver is absent: the substitute acts instead


@dataclass
class OpenRequestInput:
    deal_id: str
    template_code: str
    workflow_id: str
    initiator_id: str
    title: str = ""
    contract_id: str = ""


@dataclass
class RequestRef:
    id: str


@dataclass
class RoundInput:
    request_id: str
    round: int


@dataclass
class AssignmentInfo:
    approver_id: str
    stand_in_id: str
    task_id: str
    status: str = "open"
    due_at: datetime | None = None


@dataclass
class AssignStepInput:
    request_id: str
    round: int
    step_code: str
    step_index: int
    assignments: list[AssignmentInfo]


@dataclass
class RecordDecisionInput:
    idempotency_key: str
    request_id: str
    round: int
    step_code: str
    approver_id: str
    actor_id: str
    outcome: str
    comment: str = ""
    fields_before: dict[str, Any] = field(default_factory=dict)
    fields_after: dict[str, Any] = field(default_factory=dict)
    file_ids: list[str] = field(default_factory=list)
    task_id: str = ""


@dataclass
class DecisionRef:
    id: str


@dataclass
class CloseRoundInput:
    request_id: str
    round: int
    round_status: str
    request_status: str


@dataclass
class MoveDealInput:
    deal_id: str
    stage_id: str
    comment: str = ""


@dataclass
class CheckFilesInput:
    deal_id: str
    file_ids: list[str]


@dataclass
class AttachFilesInput:
    """Attach files of the deal to one of its records (a decision, a contract)."""

    deal_id: str
    file_ids: list[str]
    kind: str
    target_id: str


@dataclass
class ContractInfo:
    id: str
    deal_id: str
    type_code: str
    template_code: str
    status: str
    manager_id: str
    title: str = ""
    number: str = ""


@dataclass
class GetContractInput:
    contract_id: str


@dataclass
class SetContractStatusInput:
    contract_id: str
    status: str
    request_id: str = ""


@dataclass
class AddContractDocumentInput:
    contract_id: str
    file_id: str
    kind: str
