"""Deal events become notifications exactly once: through JetStream redeliveries, a
poison message, and an outbox relay that dies mid-batch and is restarted."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from services.approvals.tables import outbox as approvals_outbox
from services.common.db import PendingEvent, UnitOfWork
from services.common.events import Envelope
from services.common.nats import Consumer
from services.common.outbox import OutboxRelay
from services.notifications.consumer import apply_deal_event, deal_events_consumer
from services.notifications.tables import inbox, notifications

pytestmark = pytest.mark.integration


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        await asyncio.sleep(0.05)


def fresh_user() -> int:
    return random.randint(10**9, 2 * 10**9)


def deal_event(user: int, type_: str = "deals.deal.stage_changed", **data: Any) -> Envelope:
    deal = {
        "id": user,
        "title": f"Deal {user}",
        "pipeline_id": 1,
        "stage_id": 2,
        "responsible_id": str(user),
    }
    body = {"deal": deal, "from_stage": "New", "to_stage": "Quoted", **data}
    return Envelope(uuid.uuid4(), type_, "deals", datetime.now(UTC), f"deal/{user}", "1", body)


async def notified(engine: AsyncEngine, *users: int) -> list[Any]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(notifications).where(notifications.c.user_id.in_(users))
        )
        return list(rows)


@contextlib.asynccontextmanager
async def consuming(js: JetStreamContext, engine: AsyncEngine) -> AsyncIterator[str]:
    """Run the deal-events consumer (on a durable of its own) while the block runs."""
    durable = f"notifications-deals-{uuid.uuid4().hex[:8]}"
    stop = asyncio.Event()
    task = asyncio.create_task(deal_events_consumer(js, engine, durable=durable).run(stop))
    try:
        yield durable
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await js.delete_consumer("DEALS", durable)


async def caught_up(js: JetStreamContext, durable: str) -> None:
    async def done() -> bool:
        info = await js.consumer_info("DEALS", durable)
        return info.num_pending == 0 and info.num_ack_pending == 0

    await eventually(done)


async def test_a_redelivered_event_notifies_once(nc: NATS, engine: AsyncEngine) -> None:
    js = nc.jetstream()
    user = fresh_user()
    event = deal_event(user)
    async with consuming(js, engine) as durable:
        await js.publish(event.type, event.to_json(), headers={"Nats-Msg-Id": str(event.id)})

        async def recorded() -> bool:
            return len(await notified(engine, user)) == 1

        await eventually(recorded)
        # Past JetStream's duplicate window the same event arrives again under a new id.
        ack = await js.publish(
            event.type, event.to_json(), headers={"Nats-Msg-Id": str(uuid.uuid4())}
        )
        assert not ack.duplicate
        await caught_up(js, durable)
        info = await js.consumer_info("DEALS", durable)
        assert info.delivered.stream_seq >= ack.seq  # the copy was delivered, and ignored

    [row] = await notified(engine, user)
    assert (row.kind, row.deal_id, row.event_id) == ("deal.stage_changed", user, event.id)
    assert row.body == "New → Quoted"


async def test_a_malformed_message_is_terminated_and_does_not_block(
    nc: NATS, engine: AsyncEngine
) -> None:
    js = nc.jetstream()
    user = fresh_user()
    good = deal_event(user)
    bad_shape = deal_event(fresh_user(), deal="not a deal")
    async with consuming(js, engine) as durable:
        await js.publish(
            "deals.deal.stage_changed",
            b"{not json",
            headers={"Nats-Msg-Id": "x" + uuid.uuid4().hex},
        )
        await js.publish(
            bad_shape.type, bad_shape.to_json(), headers={"Nats-Msg-Id": str(bad_shape.id)}
        )
        await js.publish(good.type, good.to_json(), headers={"Nats-Msg-Id": str(good.id)})

        async def recorded() -> bool:
            return len(await notified(engine, user)) == 1

        await eventually(recorded)
        await caught_up(js, durable)
        info = await js.consumer_info("DEALS", durable)
        assert info.num_redelivered == 0  # terminated, not retried
    async with engine.connect() as conn:
        applied = await conn.scalar(
            sa.select(sa.func.count()).select_from(inbox).where(inbox.c.event_id == bad_shape.id)
        )
    assert applied == 0  # the rejected event left no trace


class FlakyJetStream:
    """Publishes `good` messages, then fails the next one: raises, or hangs until cancelled."""

    def __init__(self, js: JetStreamContext, *, good: int, hang: bool = False) -> None:
        self._js, self._left, self._hang = js, good, hang
        self.failed = asyncio.Event()

    async def publish(self, subject: str, payload: bytes, **kwargs: Any) -> Any:
        if self._left == 0:
            self.failed.set()
            if self._hang:
                await asyncio.Event().wait()
            raise ConnectionError("NATS connection lost mid-batch")
        self._left -= 1
        return await self._js.publish(subject, payload, **kwargs)


async def pending(engine: AsyncEngine) -> int:
    t = approvals_outbox
    async with engine.connect() as conn:
        count = await conn.scalar(
            sa.select(sa.func.count()).select_from(t).where(t.c.status == "pending")
        )
    return int(count or 0)


async def test_outbox_to_consumer_exactly_once_across_relay_restart(
    nc: NATS, engine: AsyncEngine
) -> None:
    js = nc.jetstream()
    n = 30
    base = fresh_user()
    users = [base + i for i in range(n)]
    for user in users:
        async with UnitOfWork(engine, approvals_outbox) as uow:
            event = deal_event(user, type_="deals.deal.created")
            uow.emit(PendingEvent(type=event.type, subject=event.subject, data=event.data))
    async with engine.connect() as conn:
        ids = list(
            await conn.scalars(
                sa.select(approvals_outbox.c.id).where(approvals_outbox.c.status == "pending")
            )
        )
    assert len(ids) == n

    def relay(with_js: Any) -> OutboxRelay:
        return OutboxRelay(
            engine=engine, outbox=approvals_outbox, js=with_js, source="deals", batch=n
        )

    async with consuming(js, engine) as durable:
        # The first relay loses NATS after 7 messages: its batch rolls back, all still pending.
        with pytest.raises(ConnectionError):
            await relay(FlakyJetStream(js, good=7)).publish_batch()
        assert await pending(engine) == n

        # The second is killed while waiting on the 13th publish.
        flaky = FlakyJetStream(js, good=12, hang=True)
        killed = asyncio.create_task(relay(flaky).publish_batch())
        await asyncio.wait_for(flaky.failed.wait(), 10)
        killed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await killed
        assert await pending(engine) == n

        # A fresh relay drains everything.
        stop = asyncio.Event()
        running = asyncio.create_task(relay(js).run(stop))

        async def drained() -> bool:
            return await pending(engine) == 0

        await eventually(drained)
        stop.set()
        await asyncio.wait_for(running, 10)

        async def all_notified() -> bool:
            return len(await notified(engine, *users)) >= n

        await eventually(all_notified)
        await caught_up(js, durable)

    rows = await notified(engine, *users)
    assert sorted(r.user_id for r in rows) == users, "one notification per event"
    assert sorted(r.event_id for r in rows) == sorted(ids)
    assert all(r.kind == "deal.created" for r in rows)
    async with engine.connect() as conn:
        applied = await conn.scalar(
            sa.select(sa.func.count()).select_from(inbox).where(inbox.c.event_id.in_(ids))
        )
    assert applied == n


@contextlib.asynccontextmanager
async def consuming_only(
    js: JetStreamContext, engine: AsyncEngine, subject: str
) -> AsyncIterator[str]:
    """The deal-events consumer on a subject of the test's own (nothing older in its way)."""
    durable = f"notifications-batch-{uuid.uuid4().hex[:8]}"
    consumer = Consumer(
        js=js,
        engine=engine,
        inbox=inbox,
        stream="DEALS",
        durable=durable,
        filter_subject=subject,
        handler=apply_deal_event,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        yield durable
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await js.delete_consumer("DEALS", durable)


async def applied_in(engine: AsyncEngine, durable: str, events: list[Envelope]) -> dict[Any, str]:
    """Event id → the id of the transaction that recorded it in the inbox."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(inbox.c.event_id, sa.literal_column("xmin::text")).where(
                inbox.c.consumer == durable, inbox.c.event_id.in_([e.id for e in events])
            )
        )
        return {r[0]: r[1] for r in rows}


@pytest.mark.parametrize("with_bad_event", [False, True])
async def test_a_fetched_batch_is_applied_in_one_transaction_a_bad_event_alone(
    nc: NATS, engine: AsyncEngine, with_bad_event: bool
) -> None:
    js = nc.jetstream()
    subject = f"deals.deal.batch{uuid.uuid4().hex[:8]}"
    users = [fresh_user() for _ in range(5)]
    good = [deal_event(u) for u in users]
    bad = [deal_event(fresh_user(), deal="not a deal")] if with_bad_event else []
    for event in [*good[:2], *bad, *good[2:]]:  # all there before the consumer starts
        await js.publish(subject, event.to_json(), headers={"Nats-Msg-Id": str(event.id)})
    async with consuming_only(js, engine, subject) as durable:

        async def recorded() -> bool:
            return len(await notified(engine, *users)) == len(users)

        await eventually(recorded)
        await caught_up(js, durable)
        info = await js.consumer_info("DEALS", durable)
        assert info.num_redelivered == 0  # a bad event is terminated, the others applied
        applied = await applied_in(engine, durable, [*good, *bad])
    assert set(applied) == {e.id for e in good}
    if not with_bad_event:  # one fetch, one transaction
        assert len(set(applied.values())) == 1
