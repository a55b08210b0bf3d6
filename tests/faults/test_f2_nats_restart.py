"""F2: nats-server (JetStream, file store) is killed and started again in the middle of a
stream of 10,000 deal events. The outbox drains after the restart, every event is in the
stream (none lost), and every consumer applied each event exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter

import pytest
from dealflow.deals.v1 import deals_pb2, deals_pb2_grpc

from deploy.local.stack import Stack
from services.common.errors import DomainError
from services.common.grpc_client import ServiceUnavailable, call, channel
from tests.e2e.conftest import eventually
from tests.faults.conftest import Org
from tests.faults.processes import sql, stream_event_ids

EVENTS = int(os.environ.get("DEALFLOW_F2_EVENTS", "10000"))
CONSUMERS = [("notifications.processed_events", "notifications-deals")]


@pytest.mark.chaos
@pytest.mark.timeout(900)
async def test_f2_nats_restarted_during_10000_deal_events(stack: Stack, org: Org) -> None:
    began = time.monotonic()
    first_seq = sql(stack, "SELECT coalesce(max(seq), 0) FROM deals.outbox")[0][0]
    chan = channel(stack.service_addr("deals"))
    deals = deals_pb2_grpc.DealsServiceStub(chan)
    made = 0
    sem = asyncio.Semaphore(24)

    async def create(i: int) -> None:
        nonlocal made
        request = deals_pb2.CreateDealRequest(pipeline_id=str(org.pipeline_id), title=f"F2 {i}")
        async with sem:
            while True:
                try:
                    await call(deals.CreateDeal, request, actor=org.manager_id)
                    made += 1
                    return
                except (ServiceUnavailable, DomainError):  # pragma: no cover - retried
                    await asyncio.sleep(0.2)

    async def a_third_made() -> bool:
        return made >= EVENTS // 3

    producing = asyncio.gather(*(create(i) for i in range(EVENTS)))
    await eventually(a_third_made, timeout=300, what="a third of the events")
    await asyncio.to_thread(stack.kill, "nats", signal.SIGKILL)
    killed_after = made
    await asyncio.sleep(1)  # JetStream is gone for a moment; the producers go on meanwhile
    await asyncio.to_thread(stack.start_again, "nats")
    await producing
    await chan.close()
    produced = time.monotonic() - began

    events = [
        str(r[0])
        for r in sql(
            stack,
            "SELECT id FROM deals.outbox WHERE seq > %s AND type = %s",
            first_seq,
            "deals.deal.created",
        )
    ]
    assert len(events) == EVENTS

    async def drained() -> bool:
        pending = sql(stack, "SELECT count(*) FROM deals.outbox WHERE status = 'pending'")
        return pending[0][0] == 0

    await eventually(drained, timeout=300, what="the deals outbox to drain")
    for table, consumer in CONSUMERS:

        async def applied(table: str = table, consumer: str = consumer) -> bool:
            done = sql(
                stack,
                f"SELECT count(*) FROM {table} WHERE consumer = %s AND event_id = ANY(%s::uuid[])",
                consumer,
                events,
            )
            return done[0][0] == EVENTS

        await eventually(applied, timeout=400, what=f"{consumer} to apply every event")
    in_stream = Counter(await stream_event_ids(stack, "DEALS", "deals.deal.created"))
    missing = [e for e in events if e not in in_stream]
    doubled = sum(1 for e in events if in_stream[e] > 1)
    print(
        f"\nF2: {EVENTS} events, nats killed after {killed_after}, produced in {produced:.0f}s, "
        f"all applied after {time.monotonic() - began:.0f}s; {doubled} twice in the stream "
        "(applied once each)"
    )
    assert not missing, f"{len(missing)} events never reached JetStream"
