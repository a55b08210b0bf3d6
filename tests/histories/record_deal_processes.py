"""Record PIT-3 shipment dispatch, SM-1 proposal follow-up and SM-7 production and
shipment histories:

.venv/bin/python -m tests.histories.record shipment_dispatch proposal_follow_up \
    production_shipment
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.approvals.chain_fakes import OPERATOR, decide
from tests.unit.workflows.deal_process_drivers import (
    DIRECTIONS,
    answer_call,
    deliver,
    dispatch_fakes,
    dispatch_to_delivery,
    follow_up_fakes,
    produce_and_close,
    production_fakes,
)
from tests.unit.workflows.deal_process_fakes import (
    ADMIN,
    STOREKEEPER,
    DealFakes,
    nth_task,
    start_process,
)
from tests.unit.workflows.fakes import MANAGER
from workflows.api import WORKFLOWS
from workflows.processes.production_shipment import ProductionShipment
from workflows.processes.proposal_follow_up import ProposalFollowUp
from workflows.processes.shipment_dispatch import ShipmentDispatch

HERE = Path(__file__).parent
Drive = Callable[[WorkflowHandle[Any, Any], DealFakes], Awaitable[None]]


async def _record(
    env: WorkflowEnvironment, process: str, run: Any, name: str, fakes: DealFakes, drive: Drive
) -> Path:
    task_queue = f"record-{uuid.uuid4().hex}"
    async with Worker(
        env.client, task_queue=task_queue, workflows=WORKFLOWS, activities=fakes.activities()
    ):
        workflow_id = f"deal-42/{process.replace('_', '-')}/{name}"
        handle = await start_process(env.client, task_queue, run, process, workflow_id=workflow_id)
        await drive(handle, fakes)
        await handle.result()
        history = await handle.fetch_history()
    path = HERE / f"{process}_{name}.json"
    path.write_text(history.to_json())
    return path


async def record_shipment_dispatch(env: WorkflowEnvironment) -> list[Path]:
    async def transport(handle: WorkflowHandle[Any, Any], fakes: DealFakes) -> None:
        await dispatch_to_delivery(handle, fakes)
        await deliver(handle, fakes, "transport_company")

    async def missing_operator(handle: WorkflowHandle[Any, Any], fakes: DealFakes) -> None:
        ask_id, _ = await nth_task(handle, fakes, "shipment_dispatch.missing")
        await decide(handle, ask_id, ADMIN, "fixed")  # not fixed: asked again
        await nth_task(handle, fakes, "shipment_dispatch.missing", 2)
        fakes.lists[DIRECTIONS].append(
            {"direction": "Omsk", "operator": OPERATOR.id, "storekeeper": STOREKEEPER.id}
        )
        await env.sleep(timedelta(minutes=16))  # the re-check finds it
        await dispatch_to_delivery(handle, fakes)
        await deliver(handle, fakes, "pickup")

    return [
        await _record(
            env, "shipment_dispatch", ShipmentDispatch.run, "transport_company",
            dispatch_fakes("transport_company"), transport,
        ),
        await _record(
            env, "shipment_dispatch", ShipmentDispatch.run, "missing_operator",
            dispatch_fakes("pickup", shipping_direction="Omsk"), missing_operator,
        ),
    ]  # fmt: skip


async def record_proposal_follow_up(env: WorkflowEnvironment) -> list[Path]:
    async def call_backs_then_agreed(handle: WorkflowHandle[Any, Any], fakes: DealFakes) -> None:
        today = (await env.get_current_time()).date()
        for n, days in ((1, 2), (2, 3)):
            call_on = (today + timedelta(days=days)).isoformat()
            await answer_call(handle, fakes, n, "call_back_later", call_on=call_on)
            await env.sleep(timedelta(days=days, hours=1))
        await answer_call(handle, fakes, 3, "agreed")

    async def attached_then_refused(handle: WorkflowHandle[Any, Any], fakes: DealFakes) -> None:
        task_id, _ = await nth_task(handle, fakes, "proposal_follow_up.attach")
        await decide(handle, task_id, MANAGER, "attached", proposal_file="f-2")
        await answer_call(handle, fakes, 1, "refused", comment="Too expensive")

    return [
        await _record(
            env, "proposal_follow_up", ProposalFollowUp.run, "call_backs_agreed",
            follow_up_fakes(proposal_file="f-1"), call_backs_then_agreed,
        ),
        await _record(
            env, "proposal_follow_up", ProposalFollowUp.run, "attached_refused",
            follow_up_fakes(), attached_then_refused,
        ),
    ]  # fmt: skip


async def record_production_shipment(env: WorkflowEnvironment) -> list[Path]:
    async def reminded_rework_won(handle: WorkflowHandle[Any, Any], fakes: DealFakes) -> None:
        due_on = (await env.get_current_time()).date() + timedelta(days=5)
        await produce_and_close(
            handle, fakes, due_on.isoformat(),
            wait=lambda: env.sleep(timedelta(days=6)), rework="Wrong INN",
        )  # fmt: skip

    return [
        await _record(
            env, "production_shipment", ProductionShipment.run, "reminded_rework_won",
            production_fakes(), reminded_rework_won,
        )
    ]  # fmt: skip
