"""Fakes for processes that move a deal through named stages, read its fields as they change
and look people up in admin lists (PIT-3, SM-1, SM-7); shared by their tests and the
history recorders. The deal is a mutable record the fake activities read and write."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.exceptions import ApplicationError

from tests.unit.approvals.chain_fakes import PEOPLE, ChainFakes
from tests.unit.workflows.fakes import DEAL_ID, DEAL_TITLE, MANAGER, PIPELINE_ID, eventually, state
from workflows.activities.approval_types import (
    Approver,
    DealRefInput,
    FieldSpec,
    MoveDealInput,
    PipelineLayout,
    ResolveApproversInput,
    StageSpec,
)
from workflows.activities.types import DealInfo, GetDealInput, UserInfo
from workflows.kit.contracts import ProcessInput

ADMIN = UserInfo(id="u-admin", name="Ada Admin")
DRIVER = UserInfo(id="u-driver", name="Dima Driver")
STOREKEEPER = UserInfo(id="u-store", name="Stas Storekeeper")
PEOPLE.update({u.id: u for u in (ADMIN, DRIVER, STOREKEEPER)})

PIT3_STAGES = ["Realization", "Assembly/documents", "Delivery", "Won", "Lost"]
SM_STAGES = ["Proposal sent", "Contract", "Realization", "Won", "Lost"]


def layout_of(names: list[str], fields: list[str]) -> PipelineLayout:
    semantic = {"won": "won", "lost": "lost"}
    return PipelineLayout(
        id=PIPELINE_ID,
        fields=[FieldSpec(code, "string") for code in fields],
        stages=[
            StageSpec(f"s-{name}", name, semantic.get(name.casefold(), "in_progress"))
            for name in names
        ],
    )


@dataclass
class DealFakes(ChainFakes):
    stage_names: list[str] = field(default_factory=lambda: list(PIT3_STAGES))
    field_codes: list[str] = field(default_factory=list)
    stage_id: str = ""
    lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.stage_id = self.stage_id or f"s-{self.stage_names[0]}"
        self.roles.setdefault("admin", [ADMIN.id])
        self.base.lists = self.lists  # the shared fakes' look_up_list reads them

    def activities(self) -> list[Any]:
        replaced = {"get_deal", "get_pipeline_layout", "move_deal", "resolve_approvers"}
        kept = [a for a in super().activities() if a.__name__ not in replaced]
        return [
            *kept,
            self.get_deal,
            self.get_pipeline_layout,
            self.move_deal,
            self.resolve_approvers,
        ]

    @activity.defn(name="get_deal")
    async def get_deal(self, inp: GetDealInput) -> DealInfo:
        self._log("get_deal", inp)
        return DealInfo(
            inp.deal_id, PIPELINE_ID, self.stage_id, DEAL_TITLE, MANAGER.id, dict(self.deal_fields)
        )

    @activity.defn(name="get_pipeline_layout")
    async def get_pipeline_layout(self, inp: DealRefInput) -> PipelineLayout:
        self._log("get_pipeline_layout", inp)
        return layout_of(self.stage_names, self.field_codes)

    @activity.defn(name="move_deal")
    async def move_deal(self, inp: MoveDealInput) -> None:
        if inp.stage_id in self.refused_stages:
            raise ApplicationError(
                "fields.upd_ready_on: required on stage Delivery",
                type="ValidationFailed",
                non_retryable=True,
            )
        self._log("move_deal", inp)
        self.stage_id = inp.stage_id

    @activity.defn(name="resolve_approvers")
    async def resolve_approvers(self, inp: ResolveApproversInput) -> list[Approver]:
        self._log("resolve_approvers", inp)
        ids = [i for rule in inp.rules for i in self.roles.get(rule.role, [])]
        return [Approver(i, PEOPLE[i].name if i in PEOPLE else i) for i in ids]

    # ---- looking at what the process did ----
    def moves(self) -> list[str]:
        return [m.stage_id.removeprefix("s-") for m in self.of("move_deal")]


async def start_process(
    client: Client, task_queue: str, run: Any, name: str, *, workflow_id: str = "", **params: Any
) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        run,
        ProcessInput(DEAL_ID, PIPELINE_ID, MANAGER.id, params),
        id=workflow_id or f"deal-{DEAL_ID}/{name}/{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
    )


async def nth_task(
    handle: WorkflowHandle[Any, Any], fakes: ChainFakes, kind: str, n: int = 1
) -> Any:
    """The n-th task of `kind` (1-based) once the process accepts answers to it: (id, input)."""

    async def is_open() -> bool:
        tasks = fakes.tasks_of(kind)
        return (
            len(tasks) >= n and fakes.task_id(tasks[n - 1]) in (await state(handle)).open_task_ids
        )

    await eventually(is_open, f"task {kind} #{n}")
    task = fakes.tasks_of(kind)[n - 1]
    return fakes.task_id(task), task
