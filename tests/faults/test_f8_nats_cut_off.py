"""F8: the connection of the deals service (outbox relay) and of the notifications service
(consumer) to NATS cut for 30 s by a TCP proxy while deals move. The outbox holds the
events meanwhile; after the cut every event reaches JetStream and the consumer applies
each exactly once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually
from tests.faults.conftest import Org
from tests.faults.processes import sql, stream_event_ids
from tests.faults.tcp_proxy import TcpProxy

CUT_SECONDS = 30
DEALS = 20
PROXIED = ("deals", "notifications")


async def _ready(stack: Stack) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            return (await http.get(stack.gateway_url + "/readyz")).status_code == 200
    except httpx.HTTPError:
        return False


async def _through(stack: Stack, url: str) -> None:
    """Restart the proxied services with NATS_URL = `url`."""
    for name in PROXIED:
        stack.process(name).env["NATS_URL"] = url
        await asyncio.to_thread(stack.restart, name)
    await eventually(lambda: _ready(stack), timeout=60, what="the services up again")


@pytest.fixture
async def proxy(stack: Stack) -> AsyncIterator[TcpProxy]:
    tcp = TcpProxy("127.0.0.1", stack.ports.nats)
    port = await tcp.start()
    await _through(stack, f"nats://127.0.0.1:{port}")
    try:
        yield tcp
    finally:
        await _through(stack, stack.nats_url)
        await tcp.stop()


async def _pending(stack: Stack) -> int:
    return int(sql(stack, "SELECT count(*) FROM deals.outbox WHERE status = 'pending'")[0][0])


@pytest.mark.chaos
@pytest.mark.timeout(300)
async def test_f8_nats_cut_off_for_30_s_while_deals_move(
    stack: Stack, org: Org, proxy: TcpProxy
) -> None:
    began = time.monotonic()
    pipeline = (await org.admin.get(f"/pipelines/{org.pipeline_id}")).json()
    stages = [s["id"] for s in pipeline["stages"][:2]]
    made = [
        await org.manager.post("/deals", json={"pipeline_id": org.pipeline_id, "title": f"F8 {i}"})
        for i in range(DEALS)
    ]
    ids = [r.json()["id"] for r in made]
    moves: Counter[int] = Counter()
    stop = asyncio.Event()

    async def mover(deal_id: int) -> None:
        while not stop.is_set():
            target = stages[(moves[deal_id] + 1) % 2]
            resp = await org.manager.post(f"/deals/{deal_id}/move", json={"stage_id": target})
            assert resp.status_code == 200, resp.text
            moves[deal_id] += 1
            await asyncio.sleep(0.2)

    movers = [asyncio.create_task(mover(i)) for i in ids]
    await asyncio.sleep(3)
    proxy.cut()
    cut_at = time.monotonic()
    held = 0
    while time.monotonic() - cut_at < CUT_SECONDS:
        held = max(held, await _pending(stack))
        await asyncio.sleep(1)
    proxy.restore()
    await asyncio.sleep(3)
    stop.set()
    await asyncio.gather(*movers)
    restored_at = time.monotonic()

    async def drained() -> bool:
        return await _pending(stack) == 0

    await eventually(drained, timeout=120, what="the deals outbox to drain")
    drain = time.monotonic() - restored_at
    subjects = [f"deal/{i}" for i in ids]
    events = [
        str(r[0])
        for r in sql(stack, "SELECT id FROM deals.outbox WHERE subject = ANY(%s)", subjects)
    ]
    assert len(events) >= DEALS + sum(moves.values()), "a created and a stage event per move"

    async def applied() -> bool:
        done = sql(
            stack,
            "SELECT count(*) FROM notifications.processed_events "
            "WHERE consumer = 'notifications-deals' AND event_id = ANY(%s::uuid[])",
            events,
        )
        return done[0][0] == len(events)

    await eventually(applied, timeout=120, what="the consumer to apply every event")
    in_stream = Counter(await stream_event_ids(stack, "DEALS", "deals.deal.>"))
    missing = [e for e in events if e not in in_stream]
    doubled = sum(1 for e in events if in_stream[e] > 1)
    print(
        f"\nF8: {len(events)} events of {DEALS} deals ({sum(moves.values())} moves), NATS cut "
        f"{CUT_SECONDS}s ({proxy.refused} reconnects refused), up to {held} events held in "
        f"the outbox, drained {drain:.1f}s after the cut ended; {doubled} twice in the stream, "
        f"applied once each; {time.monotonic() - began:.0f}s in all"
    )
    assert held > 0, "events were made during the cut and waited in the outbox"
    assert not missing, f"{len(missing)} events never reached JetStream"
    assert doubled == 0, "Nats-Msg-Id dedups the relay's retries"
