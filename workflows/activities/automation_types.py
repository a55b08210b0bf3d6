"""Inputs and outputs of the automation run and its activities: plain dataclasses (the
plan itself travels as the JSON the deals service answers; see
services/deals/automation_plan.py for its keys)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WORKFLOW = "automation_run"
DEAL_MOVED_SIGNAL = "deal_moved"
DEAL_CHANGED_SIGNAL = "deal_changed"


@dataclass
class AutomationInput:
    """One firing of one rule on one deal, or on one lead (`lead_id` set, `deal_id` "");
    the workflow id names the record, the event and the rule."""

    deal_id: str
    pipeline_id: str
    rule_id: str
    rule_version: int
    event_id: str
    why: str  # e.g. `enter "Collect"`
    initiator_id: str = ""  # who caused the event (the deal's responsible for the system)
    lead_id: str = ""
    # A run the triggers began themselves and handed over (workflows/automation_inline.py):
    # the actions before this one are done already.
    first_action: int = 0
    # The run's plan as the triggers got it from PlanRuns (the one recorded under the run's
    # id), so the run does not ask for it again; None: the run asks (`automation_plan`).
    plan: dict[str, Any] | None = None

    @property
    def record(self) -> tuple[str, str]:
        """(kind, id): ("deal", "42") or ("lead", "7")."""
        return ("lead", self.lead_id) if self.lead_id else ("deal", self.deal_id)


@dataclass
class PlanInput:
    workflow_id: str
    deal_id: str
    rule_id: str
    rule_version: int
    event_id: str
    trigger: str
    lead_id: str = ""  # a run on a lead (deal_id "")


@dataclass
class ReplanInput:
    workflow_id: str


@dataclass
class ActionInput:
    """One action of a run, resolved by the plan; `idempotency_key` is
    `<workflow id>/<action index>`. With `stage_id` (a delayed action of a run that does
    not keep on leaving) the action runs only while the deal is still in that stage. The
    activity records its result in the run log itself (one round trip per action)."""

    idempotency_key: str
    deal_id: str
    pipeline_id: str
    rule_id: str
    initiator_id: str
    why: str
    action: dict[str, Any]
    workflow_id: str = ""
    index: int = 0
    stage_id: str = ""
    lead_id: str = ""  # an action on a lead (deal_id "")
    run_status: str = ""  # recorded with the result: the run's last action run inline ("done")


def action_input(
    run: AutomationInput, workflow_id: str, index: int, action: dict[str, Any], stage_id: str = ""
) -> ActionInput:
    """Action `index` of the run (`stage_id`: the run's stage, for a delayed action that
    runs only while the deal stays)."""
    return ActionInput(
        idempotency_key=f"{workflow_id}/{index}",
        deal_id=run.deal_id,
        pipeline_id=run.pipeline_id,
        rule_id=run.rule_id,
        initiator_id=run.initiator_id,
        why=run.why,
        action=action,
        workflow_id=workflow_id,
        index=index,
        stage_id=stage_id,
        lead_id=run.lead_id,
    )


@dataclass
class LeadStageInput:
    lead_id: str


@dataclass
class ActionResult:
    detail: str
    data: dict[str, Any] = field(default_factory=dict)
    status: str = "done"  # or "cancelled": the deal (the lead) had left the stage


@dataclass
class StepInput:
    workflow_id: str
    index: int  # -1: the run as a whole
    status: str
    detail: str = ""
    run_status: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class DealMoved:
    """Signal: the deal left `from_stage_id` (for `to_stage_id`)."""

    from_stage_id: str
    to_stage_id: str


@dataclass
class DealChanged:
    """Signal: these fields of the deal changed (a date a delay counts from may be one)."""

    fields: list[str]
