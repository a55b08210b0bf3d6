"""The read side of approval requests: a request, its rounds, the steps assigned to
people and every decision with its comment, field changes and files."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class RequestStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    RETURNED = "returned"  # a step rejected it; the initiator restarts or gives up
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class Outcome(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    RESTART = "restart"  # the initiator's answer to a rejection: a new round
    LOSE = "lose"  # ... or the deal is lost


@dataclass
class Assignment:
    round: int
    step_code: str
    step_index: int
    approver_id: int
    stand_in_id: int | None
    task_id: str
    status: str  # open | decided | cancelled
    due_at: datetime | None = None

    def may_act(self, user_id: int) -> bool:
        return user_id in (self.approver_id, self.stand_in_id)


@dataclass
class Decision:
    id: int
    request_id: int
    deal_id: int
    round: int
    step_code: str
    approver_id: int | None
    actor_id: int | None
    outcome: str
    comment: str
    fields_before: dict[str, Any]
    fields_after: dict[str, Any]
    file_ids: list[str]
    decided_at: datetime


@dataclass
class Round:
    number: int
    status: str
    started_at: datetime
    closed_at: datetime | None
    decisions: list[Decision] = field(default_factory=list)


@dataclass
class ApprovalRequest:
    id: int
    deal_id: int
    template_code: str
    status: str
    workflow_id: str
    initiator_id: int | None
    title: str
    current_round: int
    current_step: str
    created_at: datetime
    updated_at: datetime | None
    contract_id: int | None = None
    rounds: list[Round] = field(default_factory=list)
    open_assignments: list[Assignment] = field(default_factory=list)

    def involves(self, user_id: int) -> bool:
        """The initiator, or anyone who was asked to decide in any round."""
        if user_id == self.initiator_id:
            return True
        if any(a.may_act(user_id) for a in self.open_assignments):
            return True
        return any(user_id in (d.actor_id, d.approver_id) for r in self.rounds for d in r.decisions)
