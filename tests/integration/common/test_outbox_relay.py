"""The outbox relay over real PostgreSQL and JetStream: claims by status, survives a late
commit, never publishes one event twice, wakes on NOTIFY."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import nats
import sqlalchemy as sa
from nats.js.api import ConsumerConfig, DeliverPolicy

from services.approvals.tables import outbox
from services.common.db import PendingEvent, UnitOfWork, create_engine
from services.common.events import Envelope
from services.common.nats import provision_streams
from services.common.outbox import OutboxRelay, republish


async def _received(js: nats.js.JetStreamContext, subject: str, expected: int) -> list[Envelope]:
    sub = await js.pull_subscribe(
        subject, stream="APPROVALS", config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
    )
    seen: list[Envelope] = []
    deadline = time.monotonic() + 10
    while len(seen) < expected and time.monotonic() < deadline:
        try:
            msgs = await sub.fetch(500, timeout=0.5)
        except (nats.errors.TimeoutError, TimeoutError):  # nats-py raises either
            continue
        for msg in msgs:
            await msg.ack()
            seen.append(Envelope.from_json(msg.data))
    # Anything more than expected would be a duplicate: look once more.
    try:
        extra = await sub.fetch(500, timeout=0.5)
        seen += [Envelope.from_json(m.data) for m in extra]
    except (nats.errors.TimeoutError, TimeoutError):  # nats-py raises either
        pass
    await sub.unsubscribe()
    return seen


async def _drain(relay: OutboxRelay) -> None:
    for _ in range(50):
        try:
            if not await relay.publish_batch():
                return
        except Exception:  # a timed-out publish: the rows stay pending, try again
            await asyncio.sleep(0.1)
    raise AssertionError("the outbox did not drain")


async def test_late_commit_is_published_and_nothing_twice(database_url: str, nats_url: str) -> None:
    engine = create_engine(database_url)
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision_streams(js)
    subject = "approvals.test.late_commit"
    relay = OutboxRelay(engine=engine, outbox=outbox, js=js, source="approvals", batch=10)

    # A transaction that takes its id first but commits after later ones.
    late = UnitOfWork(engine, outbox)
    await late.__aenter__()
    late.emit(PendingEvent(type=subject, subject="request/late", data={"n": "late"}))
    for n in range(25):
        async with UnitOfWork(engine, outbox) as uow:
            uow.emit(PendingEvent(type=subject, subject=f"request/{n}", data={"n": n}))
    # Two relays draining at once must not publish a row twice.
    # (A publish may time out on a loaded machine; the relay's contract is then to retry.)
    await asyncio.gather(*(relay.publish_batch() for _ in range(4)), return_exceptions=True)
    await late.__aexit__(None, None, None)
    await _drain(relay)

    events = await _received(js, subject, 26)
    subjects = [e.subject for e in events]
    assert len(subjects) == 26 == len(set(subjects)), "each event exactly once"
    assert "request/late" in subjects

    async with engine.connect() as conn:
        pending = await conn.scalar(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.status == "pending")
        )
    assert pending == 0
    await nc.close()
    await engine.dispose()


async def test_relay_wakes_on_notify_and_republishes_a_range(
    database_url: str, nats_url: str
) -> None:
    engine = create_engine(database_url)
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision_streams(js)
    subject = "approvals.test.notify"
    # A poll interval far longer than the test: only NOTIFY can wake the relay in time.
    relay = OutboxRelay(engine=engine, outbox=outbox, js=js, source="approvals", poll_seconds=3600)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    await asyncio.sleep(0.5)  # let it LISTEN before the commit (the wake itself is the test)
    started = datetime.now(UTC)
    async with UnitOfWork(engine, outbox) as uow:
        uow.emit(PendingEvent(type=subject, subject="request/notify", data={}))
    events = await _received(js, subject, 1)
    assert [e.subject for e in events] == ["request/notify"]

    # Re-publishing a range marks rows pending again; JetStream drops the duplicate by
    # Nats-Msg-Id, so consumers still see it once.
    assert (
        await republish(
            engine, outbox, started - timedelta(seconds=1), datetime.now(UTC) + timedelta(seconds=1)
        )
        == 1
    )
    async with engine.connect() as conn:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pending = await conn.scalar(
                sa.select(sa.func.count()).select_from(outbox).where(outbox.c.status == "pending")
            )
            await conn.rollback()
            if pending == 0:
                break
            await asyncio.sleep(0.05)
    assert pending == 0
    assert len(await _received(js, subject, 1)) == 1
    stop.set()
    await task
    await nc.close()
    await engine.dispose()
