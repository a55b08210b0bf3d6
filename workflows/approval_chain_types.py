"""Inputs, outputs and state of the approval chain workflow (plain dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class ChainInput:
    deal_id: str
    pipeline_id: str
    initiator_id: str
    template_code: str
    title: str = ""
    contract_id: str = ""
    return_stage_id: str = ""  # where a rejection sends the deal; "" -> its previous stage
    # A rejection ends the chain (outcome "rejected", the comment as its reason) instead of
    # giving the initiator a restart task: the parent decides what a rejection means (a
    # spend goes back to its author, who resubmits it as a new run).
    end_on_reject: bool = False


@dataclass
class DecisionRecord:
    round: int
    step: str
    approver_id: str
    actor_id: str
    outcome: str
    comment: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    file_ids: list[str] = field(default_factory=list)
    at: datetime | None = None
    id: str = ""  # in the approvals service


@dataclass
class ChainResult:
    request_id: str
    outcome: str  # approved | lost | rejected (end_on_reject only)
    rounds: int
    reason: str = ""
    fields: dict[str, Any] = field(default_factory=dict)  # the deal's fields at the end
    decisions: list[DecisionRecord] = field(default_factory=list)


@dataclass
class ChainState:
    request_id: str
    round: int
    step: str
    open_task_ids: list[str]
    decisions: list[DecisionRecord]


@dataclass
class Ballot:
    """An approver's open say in a step."""

    step_index: int
    approver_id: str
