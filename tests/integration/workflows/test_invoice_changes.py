"""A payment recorded in finance reaches the process waiting for it (real NATS JetStream,
Temporal's dev server for the visibility query that finds the deal's running processes):
the promo project's production waits for the prepayment until `finance.payment.recorded`
arrives, and a redelivered event changes nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from nats.js import JetStreamContext
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.common.events import Envelope
from tests.integration.workflows.test_triggers import js, own_nats  # noqa: F401
from tests.unit.workflows.fakes import DEAL_ID, MANAGER, PIPELINE_ID, start_dev_env, state
from tests.unit.workflows.layout_fakes import next_task
from tests.unit.workflows.promo_fakes import awaiting_prepayment, promo_fakes
from workflows.api import WORKFLOWS
from workflows.invoice_changes import InvoiceChanges
from workflows.kit.contracts import DEAL_ID as DEAL_ATTRIBUTE
from workflows.kit.contracts import ProcessInput
from workflows.processes.promo_project import PromoProject

pytestmark = pytest.mark.integration
K = "promo_project"


@pytest.fixture(scope="module")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_dev_env()
    yield env
    await env.shutdown()


def recorded(invoice_id: str, paid: str, status: str) -> Envelope:
    return Envelope(
        id=uuid.uuid4(),
        type="finance.payment.recorded",
        source="finance",
        time=datetime.now(UTC),
        subject=f"invoice/{invoice_id}",
        actor="9",
        data={"invoice_id": invoice_id, "deal_id": DEAL_ID, "status": status, "paid": paid},
    )


async def test_production_goes_on_once_finance_s_payment_event_arrives(
    js: JetStreamContext,  # noqa: F811
    dev_server: WorkflowEnvironment,
) -> None:
    fakes = promo_fakes()
    task_queue = f"invoice-changes-{uuid.uuid4().hex[:6]}"
    stop = asyncio.Event()
    consumer = InvoiceChanges(
        js=js, temporal=dev_server.client, durable=f"invoice-changes-{uuid.uuid4().hex[:6]}"
    )
    async with Worker(
        dev_server.client, task_queue=task_queue, workflows=WORKFLOWS, activities=fakes.activities()
    ):
        handle = await dev_server.client.start_workflow(
            PromoProject.run,
            ProcessInput(DEAL_ID, PIPELINE_ID, MANAGER.id, {}),
            id=f"deal-{DEAL_ID}/promo-project/{uuid.uuid4().hex[:6]}",
            task_queue=task_queue,
            search_attributes=TypedSearchAttributes([SearchAttributePair(DEAL_ATTRIBUTE, DEAL_ID)]),
        )
        running = asyncio.create_task(consumer.run(stop))
        try:
            await awaiting_prepayment(handle, fakes)
            other = recorded("999", "10.00", "partially_paid")  # another invoice of the deal
            await js.publish(other.type, other.to_json(), headers={"Nats-Msg-Id": str(other.id)})
            await asyncio.sleep(1.0)  # real time: the consumer has had its chance
            assert fakes.tasks_of(f"{K}.production.setup") == [], "not this invoice's money"
            assert not (await state(handle)).details["prepayment_registered"]

            event = recorded("1", "300.00", "partially_paid")
            for n in range(2):  # and a redelivery (another message id): nothing twice
                msg_id = f"{event.id}-{n}"
                await js.publish(event.type, event.to_json(), headers={"Nats-Msg-Id": msg_id})
            await next_task(handle, fakes, f"{K}.production.setup", 1)
            now = await state(handle)
            assert now.details["prepayment_registered"] and now.stage == "production"
            assert len(fakes.tasks_of(f"{K}.production.setup")) == 1
        finally:
            stop.set()
            await running
            await handle.terminate("test over")
