"""Fakes and drivers of JUG-1 proposal runs on a lead, shared by its tests and the recorder."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowHandle

from tests.unit.approvals.chain_fakes import ChainFakes, decide
from tests.unit.workflows.fakes import HEAD, MANAGER
from tests.unit.workflows.layout_fakes import next_task
from workflows.activities.leads_types import ConvertLeadInput, LeadInfo, LeadRefInput, LoseLeadInput
from workflows.activities.types import UserInfo
from workflows.kit.contracts import ProcessInput
from workflows.processes.lead_proposal import LeadProposal

LEAD_ID, FUNNEL_ID = "17", "3"
ACCOUNT_MANAGER = UserInfo(id="u-am", name="Alla Account")
PROPOSAL, FEEDBACK, TERMS, GO_ON = (
    f"lead_proposal.{kind}" for kind in ("proposal", "feedback", "terms", "go_on")
)


@dataclass
class LeadFakes(ChainFakes):
    """The chain's fakes (role look-up, head) with the lead's own activities."""

    def activities(self) -> list[Callable[..., Any]]:
        return [*super().activities(), self.get_lead, self.lose_lead, self.convert_lead]

    @activity.defn(name="get_lead")
    async def get_lead(self, inp: LeadRefInput) -> LeadInfo:
        self._log("get_lead", inp)
        return LeadInfo(inp.lead_id, FUNNEL_ID, "s-1", "in_progress", "JPoint sponsor", MANAGER.id)

    @activity.defn(name="lose_lead")
    async def lose_lead(self, inp: LoseLeadInput) -> LeadInfo:
        self._log("lose_lead", inp)
        return LeadInfo(inp.lead_id, FUNNEL_ID, "s-9", "lost", "JPoint sponsor", MANAGER.id)

    @activity.defn(name="convert_lead")
    async def convert_lead(self, inp: ConvertLeadInput) -> LeadInfo:
        self._log("convert_lead", inp)
        return LeadInfo(inp.lead_id, FUNNEL_ID, "s-5", "won", "JPoint sponsor", MANAGER.id, "99")


def lead_fakes() -> LeadFakes:
    return LeadFakes(roles={"account_manager": [ACCOUNT_MANAGER.id]})


async def start_proposal(
    client: Client, task_queue: str, *, workflow_id: str = "", **params: Any
) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        LeadProposal.run,
        ProcessInput("", FUNNEL_ID, MANAGER.id, params, lead_id=LEAD_ID),
        id=workflow_id or f"lead-{LEAD_ID}/lead-proposal/{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
    )


class Driver:
    """Answers the run's tasks in order, counting each kind's tasks."""

    def __init__(self, handle: WorkflowHandle[Any, Any], fakes: ChainFakes) -> None:
        self.handle, self.fakes = handle, fakes
        self.seen: dict[str, int] = {}

    async def answer(self, kind: str, actor: UserInfo, outcome: str, **data: Any) -> None:
        self.seen[kind] = self.seen.get(kind, 0) + 1
        task = await next_task(self.handle, self.fakes, kind, self.seen[kind])
        await decide(self.handle, task, actor, outcome, **data)


async def terms_then_positive(handle: WorkflowHandle[Any, Any], fakes: ChainFakes) -> None:
    """Round 1: the client wants other terms, the head approves; round 2: positive."""
    run = Driver(handle, fakes)
    await run.answer(PROPOSAL, MANAGER, "sent")
    await run.answer(FEEDBACK, MANAGER, "terms_not_accepted", comment="a 15 % discount")
    await run.answer(TERMS, HEAD, "approved")
    await run.answer(PROPOSAL, MANAGER, "sent")
    await run.answer(FEEDBACK, MANAGER, "positive")
