"""Fakes and a driver of JUG-2 contract runs, shared by its tests and the recorder."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowHandle

from tests.unit.approvals.chain_fakes import ChainFakes, decide
from tests.unit.workflows.fakes import DEAL_ID, MANAGER, PIPELINE_ID
from tests.unit.workflows.layout_fakes import next_task
from workflows.activities.approval_types import DealRefInput, PipelineLayout, StageSpec
from workflows.activities.products_types import DealItemRow, DealItemsInfo, GetDealItemsInput
from workflows.activities.types import UserInfo
from workflows.kit.contracts import ProcessInput
from workflows.processes.contract_with_table import ContractWithTable

CLERK = UserInfo(id="u-clerk", name="Klara Clerk")
SUBMIT, REVIEW = "contract_with_table.contract.submit", "contract_with_table.contract.review"
STAGE_NEW, STAGE_APPROVAL, STAGE_SIGNED = "s-10", "s-11", "s-12"


def pens(discount: str = "5.00", net: str = "32.50") -> DealItemRow:
    return DealItemRow(1, "5", "PEN-1", "Pen", "pcs", "3", "12.50", discount, "20", net,
                       "6.50", "39.00", "/api/v1/products/5")  # fmt: skip


@dataclass
class ContractFakes(ChainFakes):
    """The chain's fakes with a pipeline that has an Approval stage and the deal's lines."""

    tables: list[DealItemsInfo] = field(default_factory=list)  # one per call, the last repeats

    def activities(self) -> list[Callable[..., Any]]:
        return [*super().activities(), self.get_deal_items]

    @activity.defn(name="get_pipeline_layout")
    async def get_pipeline_layout(self, inp: DealRefInput) -> PipelineLayout:
        self._log("get_pipeline_layout", inp)
        return PipelineLayout(
            id=PIPELINE_ID,
            stages=[
                StageSpec(STAGE_NEW, "New", "in_progress"),
                StageSpec(STAGE_APPROVAL, "Approval", "in_progress"),
                StageSpec(STAGE_SIGNED, "Signed", "in_progress"),
            ],
        )

    @activity.defn(name="get_deal_items")
    async def get_deal_items(self, inp: GetDealItemsInput) -> DealItemsInfo:
        n = len(self.of("get_deal_items"))
        self._log("get_deal_items", inp)
        return self.tables[min(n, len(self.tables) - 1)]


def contract_fakes() -> ContractFakes:
    first = DealItemsInfo(DEAL_ID, "RUB", [pens()], "32.50", "6.50", "39.00")
    second = DealItemsInfo(DEAL_ID, "RUB", [pens("10.00", "27.50")], "27.50", "5.50", "33.00")
    return ContractFakes(roles={"clerk": [CLERK.id]}, tables=[first, second])


async def start_contract(
    client: Client, task_queue: str, *, workflow_id: str = "", **params: Any
) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        ContractWithTable.run,
        ProcessInput(DEAL_ID, PIPELINE_ID, MANAGER.id, params),
        id=workflow_id or f"deal-{DEAL_ID}/contract-with-table/{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
    )


async def run_contract(
    handle: WorkflowHandle[Any, Any], fakes: ChainFakes, comments: list[str]
) -> None:
    """The clerk's contract, one round per comment the client does not accept, then agreed."""
    for n, comment in enumerate([*comments, ""], start=1):
        submit = await next_task(handle, fakes, SUBMIT, n)
        await decide(handle, submit, CLERK, "submitted", file_ids=[f"contract-{n}"])
        review = await next_task(handle, fakes, REVIEW, n)
        if comment:
            await decide(handle, review, MANAGER, "changes_requested", comment=comment)
        else:
            await decide(handle, review, MANAGER, "approved")
