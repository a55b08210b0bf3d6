"""SM-7 production and shipment on the time-skipping server with fake activities: the
deadline watch reminds the manager 3 days and 1 day before the production date and alerts
at it (each once, on durable timers), not after "ready"; the documents go back to the
accountant with a comment until the manager closes; the deal ends in the won stage."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.approvals.chain_fakes import ACCOUNTANT
from tests.unit.workflows.deal_process_drivers import produce_and_close, production_fakes
from tests.unit.workflows.deal_process_fakes import start_process
from tests.unit.workflows.fakes import MANAGER, state
from workflows.api import WORKFLOWS
from workflows.processes.production_shipment import (
    ProductionShipment,
    ProductionShipmentResult,
)


async def test_reminders_before_and_at_the_due_date_then_won(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = production_fakes()
    async with Worker(
        env.client, task_queue=task_queue, workflows=WORKFLOWS, activities=fakes.activities()
    ):
        handle = await start_process(
            env.client, task_queue, ProductionShipment.run, "production-shipment"
        )
        due_on = (await env.get_current_time()).date() + timedelta(days=10)

        due = datetime.combine(due_on, time(), UTC)

        async def wait_past_the_date() -> None:
            between = due - timedelta(days=2) - await env.get_current_time()
            await env.sleep(between)  # two days before: the 3-day reminder only
            assert (await state(handle)).details["alerts"] == ["remind:3d"]
            await env.sleep(timedelta(days=3))  # past the date
            assert (await state(handle)).details["alerts"] == ["remind:3d", "remind:1d", "due"]

        await produce_and_close(
            handle, fakes, due_on.isoformat(), wait=wait_past_the_date, rework="Wrong INN"
        )
        result: ProductionShipmentResult = await handle.result()

    assert result.supplier == "PrintCo" and result.document_ids == ["doc-2"]
    notes = fakes.of("create_notification")
    assert [n.kind for n in notes] == ["production_shipment.reminder"] * 2 + [
        "production_shipment.due"
    ]
    assert all(n.user_id == MANAGER.id for n in notes)
    documents = fakes.tasks_of("production_shipment.documents")
    assert [t.assignee_id for t in documents] == [ACCOUNTANT.id] * 2
    assert "Wrong INN" in documents[1].description
    assert fakes.moves() == ["Won"]
    steps = [e.data["step"] for e in fakes.of("add_timeline_entry")]
    for step in ("production", "ready", "documents", "rework", "closed"):
        assert step in steps


async def test_ready_before_the_reminders_sends_none(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = production_fakes()
    async with Worker(
        env.client, task_queue=task_queue, workflows=WORKFLOWS, activities=fakes.activities()
    ):
        handle = await start_process(
            env.client, task_queue, ProductionShipment.run, "production-shipment"
        )
        due_on = (await env.get_current_time()).date() + timedelta(days=10)
        await produce_and_close(handle, fakes, due_on.isoformat())
        await handle.result()
        await env.sleep(timedelta(days=20))
    assert not fakes.of("create_notification")
