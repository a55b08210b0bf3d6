"""A decision taken in the approvals service reaches the audit log once, however often
JetStream delivers it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import nats
import pytest
from nats.aio.client import Client as NATS
from nats.js.errors import NotFoundError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.events import Envelope
from services.common.nats import provision_streams
from services.deals.audit import AuditFilter, entries
from services.deals.audit_consumer import decisions_consumer

pytestmark = pytest.mark.integration


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    client = await nats.connect(nats_url)
    await provision_streams(client.jetstream())
    yield client
    await client.close()


async def test_a_decision_event_is_audited_once(engine: AsyncEngine, nc: NATS) -> None:
    js = nc.jetstream()
    request_id = str(uuid.uuid4().int % 10**9)
    event = Envelope(
        uuid.uuid4(),
        "approvals.decision.recorded",
        "approvals",
        datetime.now(UTC),
        f"deal/42/approval/{request_id}",
        "17",
        {
            "request_id": request_id,
            "deal_id": "42",
            "outcome": "reject",
            "comment": "limit too high",
            "before": {"credit_limit": "100000"},
            "after": {"credit_limit": "50000"},
        },
    )
    # delivered twice (a publisher retry past the duplicate window)
    await js.publish("approvals.decision.recorded", event.to_json())
    await js.publish("approvals.decision.recorded", event.to_json())

    stop = asyncio.Event()
    durable = f"audit-{uuid.uuid4().hex[:8]}"
    task = asyncio.create_task(decisions_consumer(js, engine, durable=durable).run(stop))
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                info = await js.consumer_info("APPROVALS", durable)
                if info.num_pending == 0 and info.num_ack_pending == 0:
                    break
            except NotFoundError:  # the consumer provisions its durable as it starts
                pass
            assert time.monotonic() < deadline, "the consumer did not catch up"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await js.delete_consumer("APPROVALS", durable)

    async with engine.connect() as conn:
        found = await entries(
            conn,
            AuditFilter(subject_type="approval_request", subject_id=request_id),
            before_id=None,
            limit=10,
        )
    assert len(found) == 1
    (entry,) = found
    assert (entry.action, entry.actor_id, entry.source) == (
        "approvals.decision.recorded",
        17,
        "approvals",
    )
    assert entry.before == {"credit_limit": "100000"}
    assert entry.after == {"credit_limit": "50000"}
