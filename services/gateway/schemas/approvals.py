"""Approval chain templates, requests with their rounds and decisions, and a decision."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.common.protoconv import from_struct
from services.gateway.schemas.common import Input, RecordId, id_or_none, timestamp


class ApproverIn(Input):
    kind: Literal["user", "role", "head", "list"]
    user_id: str = ""
    role: str = ""
    department_id: str = ""
    list_code: str = ""
    key_field: str = Field("", description="the deal field whose value picks the list row")
    key_column: str = Field("", description='the list column it is compared with ("" = row id)')
    user_column: str = Field("", description="the list column naming the approver")


class StepIn(Input):
    code: str
    name: str
    approvers: list[ApproverIn]
    quorum: Literal["all", "any", "majority"] = "all"
    editable_fields: list[str] = []
    required_fields: list[str] = []
    file_field: str = Field("", description="the deal field that receives the decision's file")
    requires_file: bool = False
    deadline_hours: float = 0
    remind_before_hours: float = 0
    escalate: bool = False


class OnRejectIn(Input):
    return_to_previous_stage: bool = True
    allow_lose: bool = True


class OnApproveIn(Input):
    move_to_stage_id: str = ""
    task_title: str = ""
    notify: bool = True


class TemplateBody(Input):
    name: str = Field(min_length=1, max_length=300)
    steps: list[StepIn] = Field(min_length=1)
    on_reject: OnRejectIn = OnRejectIn()
    on_approve: OnApproveIn = OnApproveIn()

    def definition(self) -> dict[str, Any]:
        return self.model_dump(include={"steps", "on_reject", "on_approve"})


class TemplateIn(TemplateBody):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")


class TemplateOut(BaseModel):
    code: str
    name: str
    version: int
    steps: list[dict[str, Any]]
    on_reject: dict[str, Any]
    on_approve: dict[str, Any]

    @classmethod
    def of(cls, msg: Any) -> TemplateOut:
        definition = from_struct(msg.definition)
        return cls(
            code=msg.code,
            name=msg.name,
            version=msg.version,
            steps=definition.get("steps", []),
            on_reject=definition.get("on_reject", {}),
            on_approve=definition.get("on_approve", {}),
        )


class DecisionIn(Input):
    decision: Literal["approve", "reject"]
    comment: str = Field("", max_length=10_000)
    fields: dict[str, Any] = Field({}, description="deal fields the step lets you change")
    file_ids: list[RecordId] = []


class DecisionOut(BaseModel):
    id: int
    round: int
    step: str
    approver_id: int | None
    actor_id: int | None
    outcome: str
    comment: str
    fields_before: dict[str, Any]
    fields_after: dict[str, Any]
    file_ids: list[int]
    decided_at: datetime | None

    @classmethod
    def of(cls, msg: Any) -> DecisionOut:
        return cls(
            id=int(msg.id),
            round=msg.round,
            step=msg.step_code,
            approver_id=id_or_none(msg.approver_id),
            actor_id=id_or_none(msg.actor_id),
            outcome=msg.outcome,
            comment=msg.comment,
            fields_before=from_struct(msg.fields_before),
            fields_after=from_struct(msg.fields_after),
            file_ids=[int(f) for f in msg.file_ids if f.isdigit()],
            decided_at=timestamp(msg, "decided_at"),
        )


class RoundOut(BaseModel):
    number: int
    status: str
    started_at: datetime | None
    closed_at: datetime | None
    decisions: list[DecisionOut]


class AssignmentOut(BaseModel):
    round: int
    step: str
    approver_id: int | None
    stand_in_id: int | None
    task_id: int | None
    due_at: datetime | None


class ApprovalOut(BaseModel):
    id: int
    deal_id: int
    template_code: str
    title: str
    status: str
    workflow_id: str
    initiator_id: int | None
    contract_id: int | None
    current_round: int
    current_step: str | None
    waiting_for: list[AssignmentOut]
    rounds: list[RoundOut] | None = None
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, msg: Any, *, full: bool = False) -> ApprovalOut:
        return cls(
            id=int(msg.id),
            deal_id=int(msg.deal_id),
            template_code=msg.template_code,
            title=msg.title,
            status=msg.status,
            workflow_id=msg.workflow_id,
            initiator_id=id_or_none(msg.initiator_id),
            contract_id=id_or_none(msg.contract_id),
            current_round=msg.current_round,
            current_step=msg.current_step or None,
            waiting_for=[
                AssignmentOut(
                    round=a.round,
                    step=a.step_code,
                    approver_id=id_or_none(a.approver_id),
                    stand_in_id=id_or_none(a.stand_in_id),
                    task_id=id_or_none(a.task_id),
                    due_at=timestamp(a, "due_at"),
                )
                for a in msg.open_assignments
            ],
            rounds=[
                RoundOut(
                    number=r.number,
                    status=r.status,
                    started_at=timestamp(r, "started_at"),
                    closed_at=timestamp(r, "closed_at"),
                    decisions=[DecisionOut.of(d) for d in r.decisions],
                )
                for r in msg.rounds
            ]
            if full
            else None,
            created_at=timestamp(msg, "created_at"),
            updated_at=timestamp(msg, "updated_at"),
        )
