"""B2 event latency: from sending a move until (a) the responsible user's notification row
exists and (b) a JetStream consumer sees the stage_changed event; against a raw JetStream
publish → consume on the same NATS server with the same kind of consumer."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

import nats
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy, StorageType, StreamConfig

from tests.bench.context import Bench, ok, runs
from tests.bench.stats import Figure, ms, per_run

MOVES_PER_RUN = 20
NOTIFICATION_POLL = 0.002  # seconds between looks at the notifications table
BASELINE_STREAM = "BENCH"


class Arrivals:
    """Futures resolved when a message with a given key arrives on a subscription."""

    def __init__(self, key: Callable[[Msg], str]) -> None:
        self._key = key
        self._waiting: dict[str, asyncio.Future[float]] = {}

    def expect(self, key: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting[key] = future
        return future

    async def on_msg(self, msg: Msg) -> None:
        now = time.perf_counter()
        future = self._waiting.pop(self._key(msg), None)
        if future is not None and not future.done():
            future.set_result(now)


def _deal_event_key(msg: Msg) -> str:
    body = json.loads(msg.data)
    return f"{body['subject']}:{body['data']['after']['stage_id']}"


async def _notified(bench: Bench, deal_id: int, after_id: int) -> float:
    query = (
        "SELECT id FROM notifications.notifications WHERE user_id = %s AND deal_id = %s"
        " AND id > %s LIMIT 1"
    )
    while True:
        cur = await bench.db.execute(query, [bench.manager_id, deal_id, after_id])
        if await cur.fetchone():
            return time.perf_counter()
        await asyncio.sleep(NOTIFICATION_POLL)


async def _last_notification(bench: Bench) -> int:
    cur = await bench.db.execute(
        "SELECT coalesce(max(id), 0) FROM notifications.notifications WHERE user_id = %s",
        [bench.manager_id],
    )
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def _ours(bench: Bench, deal_id: int) -> tuple[list[float], list[float]]:
    """One run: sequential moves of one deal; (to notification, to JetStream consumer)."""
    nc = await nats.connect(bench.stack.nats_url)
    arrivals = Arrivals(_deal_event_key)
    await nc.jetstream().subscribe(
        "deals.deal.stage_changed",
        cb=arrivals.on_msg,
        ordered_consumer=True,
        deliver_policy=DeliverPolicy.NEW,
    )
    new, contract = bench.stage_ids[:2]
    cur = await bench.db.execute("SELECT stage_id FROM deals.deals WHERE id = %s", [deal_id])
    row = await cur.fetchone()
    stage = int(row[0]) if row else new
    to_notice, to_consumer = [], []
    try:
        for _ in range(MOVES_PER_RUN):
            stage = contract if stage == new else new
            last = await _last_notification(bench)
            seen = arrivals.expect(f"deal/{deal_id}:{stage}")
            start = time.perf_counter()
            moved = bench.manager.post(f"/deals/{deal_id}/move", json={"stage_id": stage})
            notice = asyncio.ensure_future(_notified(bench, deal_id, last))
            ok(await moved)
            to_consumer.append(await asyncio.wait_for(seen, 10) - start)
            to_notice.append(await asyncio.wait_for(notice, 10) - start)
    finally:
        await nc.close()
    return to_notice, to_consumer


async def _bare(bench: Bench) -> list[float]:
    """One run: raw JetStream publish (awaiting the PubAck) until the consumer has it."""
    publisher = await nats.connect(bench.stack.nats_url)
    consumer = await nats.connect(bench.stack.nats_url)
    arrivals = Arrivals(lambda msg: msg.data.decode())
    await consumer.jetstream().subscribe(
        "bench.ping", cb=arrivals.on_msg, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    js = publisher.jetstream()
    took = []
    try:
        for i in range(MOVES_PER_RUN):
            seen = arrivals.expect(str(i))
            start = time.perf_counter()
            await js.publish("bench.ping", str(i).encode(), headers={"Nats-Msg-Id": f"{start}-{i}"})
            took.append(await asyncio.wait_for(seen, 10) - start)
    finally:
        await publisher.close()
        await consumer.close()
    return took


async def _provision(bench: Bench) -> None:
    nc = await nats.connect(bench.stack.nats_url)
    config = StreamConfig(name=BASELINE_STREAM, subjects=["bench.>"], storage=StorageType.FILE)
    await nc.jetstream().add_stream(config)
    await nc.close()


async def run(bench: Bench) -> None:
    await _provision(bench)
    (deal_id,) = await bench.create_deals(1, "B2")
    notice: list[list[float]] = []
    consumer: list[list[float]] = []
    bare: list[list[float]] = []
    steps: list[Callable[[], Awaitable[None]]] = []

    async def ours_once() -> None:
        a, b = await _ours(bench, deal_id)
        notice.append(ms(a))
        consumer.append(ms(b))

    async def bare_once() -> None:
        bare.append(ms(await _bare(bench)))

    steps = [ours_once, bare_once]
    for step in steps:  # warm-up
        await step()
    notice.clear(), consumer.clear(), bare.clear()
    for _ in range(runs()):
        for step in steps:
            await step()
    for label, samples in (
        ("move → JetStream consumer", consumer),
        ("move → notification", notice),
    ):
        for q in (50, 99):
            fig = bench.add(
                Figure(
                    "B2",
                    f"{label} p{q}",
                    "ms",
                    per_run(samples, q),
                    per_run(bare, q),
                    "raw JetStream publish → consume",
                    target="≤ 50 ms" if q == 99 else "",
                )
            )
            if q == 99:
                fig.met = fig.value.median <= 50
