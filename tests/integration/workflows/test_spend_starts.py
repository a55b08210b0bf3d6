"""A spend's submission starts its process from the `finance.*.submitted` event (real NATS
JetStream, Temporal's test server): once, however often the event is delivered, and not
again when the gateway's own start with the submission's key comes first or second."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from nats.js import JetStreamContext
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from services.common.events import Envelope
from tests.integration.workflows.test_triggers import js, own_nats, temporal  # noqa: F401
from workflows.api import start_spend_process, submission_key
from workflows.field_changes import changed_fields
from workflows.spend_starts import SpendStarts

pytestmark = pytest.mark.integration


def submitted(spend_id: str, at: str) -> Envelope:
    return Envelope(
        id=uuid.uuid4(),
        type="finance.expense.submitted",
        source="finance",
        time=datetime.now(UTC),
        subject=f"expense/{spend_id}",
        actor="7",
        data={"id": spend_id, "kind": "expense", "deal_id": "", "author_id": "7", "updated_at": at},
    )


async def exists(env: WorkflowEnvironment, workflow_id: str) -> bool:
    try:
        await env.client.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


@pytest.fixture
async def consumer(
    js: JetStreamContext,  # noqa: F811
    temporal: WorkflowEnvironment,  # noqa: F811
) -> AsyncIterator[Any]:
    stop = asyncio.Event()
    starts = SpendStarts(
        js=js, temporal=temporal.client, deals=None, task_queue="spend-starts-test",  # type: ignore[arg-type]
        durable=f"spend-starts-{uuid.uuid4().hex[:6]}",
    )  # fmt: skip
    running = asyncio.create_task(starts.run(stop))
    yield starts
    stop.set()
    await running


async def test_one_run_per_submission_however_often_it_arrives(
    js: JetStreamContext,  # noqa: F811
    temporal: WorkflowEnvironment,  # noqa: F811
    consumer: Any,
) -> None:
    spend_id = str(uuid.uuid4().int % 10**9)
    at = datetime.now(UTC).isoformat()
    event = submitted(spend_id, at)
    for _ in range(2):  # a redelivery: the same event twice
        await js.publish(event.type, event.to_json(), headers={"Nats-Msg-Id": uuid.uuid4().hex})
    first = f"expense-{spend_id}/expense-payment/1"
    for _ in range(200):
        if await exists(temporal, first):
            break
        await asyncio.sleep(0.05)
    assert await exists(temporal, first)
    # The gateway's start with the same submission's key finds the run: nothing new.
    again = await start_spend_process(
        temporal.client,
        kind="expense",
        spend_id=spend_id,
        initiator_id="7",
        task_queue="spend-starts-test",
        start_key=submission_key("expense", spend_id, at),
    )
    assert (again.workflow_id, again.started) == (first, False)
    await asyncio.sleep(0.5)  # the second delivery has been handled by now
    assert not await exists(temporal, f"expense-{spend_id}/expense-payment/2")
    # A resubmission (after a rejection) is a new submission: a new run.
    later = submitted(spend_id, datetime.now(UTC).isoformat())
    await js.publish(later.type, later.to_json(), headers={"Nats-Msg-Id": uuid.uuid4().hex})
    for _ in range(200):
        if await exists(temporal, f"expense-{spend_id}/expense-payment/2"):
            break
        await asyncio.sleep(0.05)
    assert await exists(temporal, f"expense-{spend_id}/expense-payment/2")


def test_changed_fields_are_what_differs_after() -> None:
    data = {
        "before": {"fields": {"due": "2027-01-01", "note": "a"}, "title": "x"},
        "after": {"fields": {"due": "2027-02-01", "note": "a", "new": 5}, "title": "y"},
    }
    assert changed_fields(data) == {"due": "2027-02-01", "new": 5}
    assert changed_fields({"before": {"title": "x"}, "after": {"title": "y"}}) == {}
