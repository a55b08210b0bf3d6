"""PIT-3 shipment dispatch on the time-skipping server with fake activities: who does each
step is looked up when it starts (a list changed mid-run takes effect), a missing operator
or driver asks the admins and the step starts once it is fixed (on the admin's answer or
the re-check timer), each delivery method, and the deal moved only forward."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.approvals.chain_fakes import OPERATOR, decide
from tests.unit.workflows.deal_process_drivers import (
    DIRECTIONS,
    deliver,
    dispatch_fakes,
    dispatch_to_delivery,
)
from tests.unit.workflows.deal_process_fakes import (
    ADMIN,
    DRIVER,
    STOREKEEPER,
    DealFakes,
    nth_task,
    start_process,
)
from tests.unit.workflows.fakes import state
from workflows.api import WORKFLOWS
from workflows.kit.resolve import RECHECK
from workflows.processes.shipment_dispatch import ShipmentDispatch, ShipmentDispatchResult

NEW_OPERATOR = "u-op2"


async def run(env: WorkflowEnvironment, task_queue: str, fakes: DealFakes) -> Worker:
    return Worker(
        env.client, task_queue=task_queue, workflows=WORKFLOWS, activities=fakes.activities()
    )


@pytest.mark.parametrize(
    ("method", "doer", "kind"),
    [
        ("transport_company", DRIVER.id, "shipment"),
        ("pickup", STOREKEEPER.id, "hand_over"),
        ("own_delivery", DRIVER.id, "delivery"),
    ],
)
async def test_each_delivery_method_ends_won(
    env: WorkflowEnvironment, task_queue: str, method: str, doer: str, kind: str
) -> None:
    fakes = dispatch_fakes(method)
    async with await run(env, task_queue, fakes):
        handle = await start_process(
            env.client, task_queue, ShipmentDispatch.run, "shipment-dispatch"
        )
        await dispatch_to_delivery(handle, fakes)
        await deliver(handle, fakes, method)
        result: ShipmentDispatchResult = await handle.result()

    assert result.realization_number == "R-77" and result.delivery_method == method
    assert fakes.moves() == ["Assembly/documents", "Delivery", "Won"]
    assert fakes.tasks_of(f"shipment_dispatch.{kind}")[0].assignee_id == doer
    written = {k: v for u in fakes.of("update_deal_fields") for k, v in u.fields.items()}
    assert written["realization_number"] == "R-77"
    assert {"upd_ready_on", "shipped_on"} <= set(written)
    assert (written.get("ttn_file") == "f-ttn") == (method == "transport_company")
    assert not fakes.tasks_of("shipment_dispatch.missing")


async def test_a_list_changed_while_running_changes_who_gets_the_next_task(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = dispatch_fakes("pickup")
    async with await run(env, task_queue, fakes):
        handle = await start_process(
            env.client, task_queue, ShipmentDispatch.run, "shipment-dispatch"
        )
        task_id, task = await nth_task(handle, fakes, "shipment_dispatch.realization")
        assert task.assignee_id == OPERATOR.id
        fakes.lists[DIRECTIONS][0]["operator"] = NEW_OPERATOR  # an admin PATCHes the row
        await decide(handle, task_id, OPERATOR, "created", realization_number="R-1")
        _, upd = await nth_task(handle, fakes, "shipment_dispatch.upd")
        assert upd.assignee_id == NEW_OPERATOR
        await handle.terminate()


async def test_a_direction_without_an_operator_asks_the_admins_until_fixed(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = dispatch_fakes("transport_company", shipping_direction="Omsk")
    async with await run(env, task_queue, fakes):
        handle = await start_process(
            env.client, task_queue, ShipmentDispatch.run, "shipment-dispatch"
        )
        ask_id, ask = await nth_task(handle, fakes, "shipment_dispatch.missing")
        assert ask.assignee_id == ADMIN.id and "no operator for direction Omsk" in ask.title
        # "fixed" without fixing it: a new task says it is still missing.
        await decide(handle, ask_id, ADMIN, "fixed")
        _, again = await nth_task(handle, fakes, "shipment_dispatch.missing", 2)
        assert "no operator for direction Omsk" in again.title
        assert (await state(handle)).stage == "realization"
        assert not fakes.tasks_of("shipment_dispatch.realization")
        # The admin adds the row and answers nothing: the re-check timer finds it.
        fakes.lists[DIRECTIONS].append({"direction": "Omsk", "operator": OPERATOR.id})
        await env.sleep(RECHECK + timedelta(minutes=1))
        _, task = await nth_task(handle, fakes, "shipment_dispatch.realization")
        assert task.assignee_id == OPERATOR.id
        assert [c.task_id for c in fakes.of("cancel_task")] == [fakes.task_id(again)]
        # A deal without a driver: asked again at the shipment step.
        fakes.deal_fields.pop("driver")
        await decide(handle, fakes.task_id(task), OPERATOR, "created", realization_number="R-2")
        task_id, _ = await nth_task(handle, fakes, "shipment_dispatch.upd")
        await decide(handle, task_id, OPERATOR, "upd_ready")
        ask_id, ask = await nth_task(handle, fakes, "shipment_dispatch.missing", 3)
        assert "the deal has no driver" in ask.title
        fakes.deal_fields["driver"] = DRIVER.id
        await decide(handle, ask_id, ADMIN, "fixed")
        await deliver(handle, fakes, "transport_company")
        await handle.result()
    texts = [e.text for e in fakes.of("add_timeline_entry")]
    assert any("Waiting for the admins: no operator for direction Omsk" in t for t in texts)


async def test_a_deal_dragged_ahead_by_hand_is_never_moved_back(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = dispatch_fakes("own_delivery")
    async with await run(env, task_queue, fakes):
        handle = await start_process(
            env.client, task_queue, ShipmentDispatch.run, "shipment-dispatch"
        )
        fakes.stage_id = "s-Delivery"  # a manager filled the fields and dragged it
        await dispatch_to_delivery(handle, fakes)
        await deliver(handle, fakes, "own_delivery")
        await handle.result()
    assert fakes.moves() == ["Won"]


async def test_a_move_the_deal_refuses_waits_for_the_admins(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = dispatch_fakes("pickup")
    fakes.refused_stages = {"s-Delivery"}
    async with await run(env, task_queue, fakes):
        handle = await start_process(
            env.client, task_queue, ShipmentDispatch.run, "shipment-dispatch"
        )
        await dispatch_to_delivery(handle, fakes)
        ask_id, ask = await nth_task(handle, fakes, "shipment_dispatch.missing")
        assert "the deal cannot move on: fields.upd_ready_on" in ask.title
        fakes.refused_stages.clear()
        await decide(handle, ask_id, ADMIN, "fixed")
        await deliver(handle, fakes, "pickup")
        await handle.result()
    assert fakes.moves() == ["Assembly/documents", "Delivery", "Won"]
