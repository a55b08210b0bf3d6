"""Drivers of PIT-3, SM-1 and SM-7 runs to their end on the fakes of deal_process_fakes,
shared by the workflow tests and the history recorders."""

from __future__ import annotations

from typing import Any

from temporalio.client import WorkflowHandle

from tests.unit.approvals.chain_fakes import ACCOUNTANT, OPERATOR, PEOPLE, decide
from tests.unit.workflows.deal_process_fakes import (
    DRIVER,
    SM_STAGES,
    STOREKEEPER,
    DealFakes,
    nth_task,
)
from tests.unit.workflows.fakes import MANAGER

DIRECTIONS = "shipping_directions"


def dispatch_fakes(method: str = "transport_company", **fields: Any) -> DealFakes:
    return DealFakes(
        deal_fields={
            "shipping_direction": "Kazan",
            "delivery_method": method,
            "driver": DRIVER.id,
            **fields,
        },
        field_codes=["realization_number", "upd_ready_on", "ttn_file", "shipped_on"],
        lists={
            DIRECTIONS: [
                {"direction": "Kazan", "operator": OPERATOR.id, "storekeeper": STOREKEEPER.id}
            ]
        },
    )


async def dispatch_to_delivery(handle: WorkflowHandle[Any, Any], fakes: DealFakes) -> None:
    """The operator's two steps: the realization, then the UPD."""
    task_id, task = await nth_task(handle, fakes, "shipment_dispatch.realization")
    await decide(handle, task_id, _user(task.assignee_id), "created", realization_number="R-77")
    task_id, task = await nth_task(handle, fakes, "shipment_dispatch.upd")
    await decide(handle, task_id, _user(task.assignee_id), "upd_ready")


async def deliver(handle: WorkflowHandle[Any, Any], fakes: DealFakes, method: str) -> None:
    kind, outcome, data = {
        "transport_company": ("shipment", "shipped", {"ttn_file": "f-ttn"}),
        "pickup": ("hand_over", "handed_over", {}),
        "own_delivery": ("delivery", "delivered", {}),
    }[method]
    task_id, task = await nth_task(handle, fakes, f"shipment_dispatch.{kind}")
    await decide(handle, task_id, _user(task.assignee_id), outcome, **data)


def _user(user_id: str) -> Any:
    return PEOPLE[user_id]


def follow_up_fakes(**fields: Any) -> DealFakes:
    return DealFakes(
        stage_names=list(SM_STAGES), field_codes=["proposal_file"], deal_fields=dict(fields)
    )


async def answer_call(
    handle: WorkflowHandle[Any, Any], fakes: DealFakes, n: int, outcome: str, **data: Any
) -> str:
    """Answer the n-th call task as the manager; its task id."""
    task_id, _ = await nth_task(handle, fakes, "proposal_follow_up.call", n)
    await decide(handle, task_id, MANAGER, outcome, **data)
    return str(task_id)


def production_fakes() -> DealFakes:
    fakes = DealFakes(stage_names=list(SM_STAGES))
    fakes.roles["accountant"] = [ACCOUNTANT.id]
    return fakes


async def produce_and_close(
    handle: WorkflowHandle[Any, Any],
    fakes: DealFakes,
    due_on: str,
    *,
    wait: Any = None,
    rework: str = "",
) -> None:
    """Record the production, (`wait` while it runs), ready, documents, (rework), closed."""
    task_id, _ = await nth_task(handle, fakes, "production_shipment.production")
    await decide(handle, task_id, MANAGER, "recorded", supplier="PrintCo", due_on=due_on)
    task_id, _ = await nth_task(handle, fakes, "production_shipment.ready")
    if wait is not None:
        await wait()
    await decide(handle, task_id, MANAGER, "ready")
    rounds = [rework, ""] if rework else [""]
    for n, comment in enumerate(rounds, start=1):
        task_id, _ = await nth_task(handle, fakes, "production_shipment.documents", n)
        await decide(handle, task_id, ACCOUNTANT, "prepared", documents=[f"doc-{n}"])
        task_id, _ = await nth_task(handle, fakes, "production_shipment.check", n)
        if comment:
            await decide(handle, task_id, MANAGER, "rework", comment=comment)
        else:
            await decide(handle, task_id, MANAGER, "closed")
