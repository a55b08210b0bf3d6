"""Fake finance activities (by the real names) on top of the chain's fakes, and drivers of
the spend processes; shared by their tests and the history recorder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.exceptions import ApplicationError

from process_rules.approval_templates import ChainTemplate, parse_template
from tests.unit.approvals.chain_fakes import ACCOUNTANT, ACCOUNTANT_2, ChainFakes
from tests.unit.workflows.fakes import DEAL_ID, HEAD, MANAGER, eventually
from workflows.activities.approval_types import Approver, ResolveApproversInput
from workflows.activities.finance_types import (
    CloseSpendInput,
    DecideSpendInput,
    PaymentInfo,
    PaySpendInput,
    SpendInfo,
    SpendRefInput,
)
from workflows.activities.types import UserInfo
from workflows.kit.contracts import STATE_QUERY

CEO = UserInfo(id="u-ceo", name="Carl CEO")
NAMES = {u.id: u.name for u in (CEO, HEAD, MANAGER, ACCOUNTANT, ACCOUNTANT_2)}
SPEND_ID = "5"


def one_step(code: str, approvers: list[dict[str, Any]]) -> ChainTemplate:
    return parse_template(
        code,
        code.replace("_", " ").capitalize(),
        {
            "steps": [{"code": code, "name": code, "approvers": approvers, "quorum": "any"}],
            "on_reject": {"return_to_previous_stage": False, "allow_lose": False},
        },
    )


@dataclass
class SpendFakes:
    kind: str = "supplier_payment"
    deal_id: str = DEAL_ID
    chain: ChainFakes = field(default_factory=ChainFakes)
    roles: dict[str, list[str]] = field(
        default_factory=lambda: {"ceo": [CEO.id], "accountant": [ACCOUNTANT.id, ACCOUNTANT_2.id]}
    )
    refuse_pay: str = ""  # the error type finance answers PaySpend with
    # Days ahead of today (the time-skipping server starts at the real now), so a run on
    # any date sees the due date in the future.
    due_date: str = field(default_factory=lambda: (date.today() + timedelta(days=4)).isoformat())

    def __post_init__(self) -> None:
        template = "supplier_payment" if self.kind == "supplier_payment" else "expense"
        rule = (
            {"kind": "role", "role": "ceo"} if template == "supplier_payment" else {"kind": "head"}
        )
        self.chain.template = one_step(template, [rule])

    def of(self, name: str) -> list[Any]:
        return self.chain.of(name)

    def tasks_of(self, kind: str) -> list[Any]:
        return self.chain.tasks_of(kind)

    def task_id(self, task: Any) -> str:
        return self.chain.task_id(task)

    def activities(self) -> list[Callable[..., Any]]:
        chain = [a for a in self.chain.activities() if a.__name__ != "resolve_approvers"]
        return [
            *chain,
            self.resolve_approvers,
            self.get_spend,
            self.decide_spend,
            self.pay_spend,
            self.close_spend,
        ]

    def _log(self, name: str, inp: Any) -> None:
        self.chain.calls.append((name, inp))

    @activity.defn(name="resolve_approvers")
    async def resolve_approvers(self, inp: ResolveApproversInput) -> list[Approver]:
        self._log("resolve_approvers", inp)
        ids: list[str] = []
        for rule in inp.rules:
            ids += [HEAD.id] if rule.kind == "head" else self.roles[rule.role]
        return [Approver(i, NAMES[i]) for i in ids]

    @activity.defn(name="get_spend")
    async def get_spend(self, inp: SpendRefInput) -> SpendInfo:
        self._log("get_spend", inp)
        to = "Bag factory" if self.kind == "supplier_payment" else ""
        return SpendInfo(
            inp.spend_id, inp.kind, "in_approval", self.deal_id, MANAGER.id, MANAGER.id,
            to, "400 bags", "6000.00", "RUB", self.due_date,
        )  # fmt: skip

    @activity.defn(name="decide_spend")
    async def decide_spend(self, inp: DecideSpendInput) -> SpendInfo:
        self._log("decide_spend", inp)
        return await self.get_spend(SpendRefInput(inp.kind, inp.spend_id))

    @activity.defn(name="pay_spend")
    async def pay_spend(self, inp: PaySpendInput) -> PaymentInfo:
        self._log("pay_spend", inp)
        if self.refuse_pay:
            raise ApplicationError("not allowed", type=self.refuse_pay, non_retryable=True)
        return PaymentInfo("p1", "6000.00", "RUB", inp.paid_on or "2026-12-01")

    @activity.defn(name="close_spend")
    async def close_spend(self, inp: CloseSpendInput) -> SpendInfo:
        self._log("close_spend", inp)
        return await self.get_spend(SpendRefInput("supplier_payment", inp.spend_id))


async def open_task(
    handle: WorkflowHandle[Any, Any], fakes: SpendFakes, kind: str, n: int = 1, who: str = ""
) -> str:
    """The id of the n-th task of `kind` (for `who`, if given), once the workflow takes
    answers to it."""

    def matching() -> list[Any]:
        return [t for t in fakes.tasks_of(kind) if not who or t.assignee_id == who]

    async def is_open() -> bool:
        found = matching()
        if len(found) < n:
            return False
        try:
            state = await handle.query(STATE_QUERY)
        except Exception:  # the child may not have started yet
            return False
        return fakes.task_id(found[n - 1]) in state["open_task_ids"]

    await eventually(is_open, f"task {kind} #{n}")
    return fakes.task_id(matching()[n - 1])
