"""The outbox relay: publishes committed events from a service's outbox to JetStream.

Woken by PostgreSQL NOTIFY (sent by the unit of work at commit) and by a slow poll as a
safety net. Rows are claimed by status with FOR UPDATE SKIP LOCKED, never by a high-water
mark, so a row whose transaction commits late is still published. Each message carries
Nats-Msg-Id = event id, so a re-publish after a crash is dropped by JetStream's duplicate
window and, past it, by the consumers' inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.db import notify_channel, psycopg_conninfo
from services.common.events import Envelope
from services.common.listen import listen_until
from services.common.metrics import OUTBOX_LAG

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        outbox: sa.Table,
        js: JetStreamContext,
        source: str,
        batch: int = 200,
        poll_seconds: float = 2.0,
        retention: timedelta = timedelta(hours=72),
    ) -> None:
        self._engine, self._outbox, self._js = engine, outbox, js
        self._source = source
        self._batch = batch
        self._poll = poll_seconds
        self._retention = retention
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        listener = asyncio.create_task(self._listen(stop))
        last_purge = datetime.min.replace(tzinfo=UTC)
        try:
            while not stop.is_set():
                try:
                    published = await self.publish_batch()
                except Exception:
                    log.warning("outbox publish failed; retrying", exc_info=True)
                    published = 0
                    await asyncio.sleep(0.5)
                if published >= self._batch:
                    continue
                with contextlib.suppress(Exception):
                    OUTBOX_LAG.labels(self._source).set(await self.pending_count())
                if datetime.now(UTC) - last_purge > timedelta(minutes=10):
                    last_purge = datetime.now(UTC)
                    with contextlib.suppress(Exception):
                        await self.purge_published()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wait(stop), self._poll)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def _wait(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()

    async def _listen(self, stop: asyncio.Event) -> None:
        await listen_until(
            stop,
            conninfo=psycopg_conninfo(self._engine),
            channel=notify_channel(self._outbox.schema or "public"),
            on_ready=self._wake.set,  # catch up on anything committed while not listening
            on_notify=self._wake.set,
        )

    async def publish_batch(self) -> int:
        """Publish up to one batch of pending events; returns how many were published."""
        t = self._outbox
        async with self._engine.begin() as conn:
            rows = (
                await conn.execute(
                    sa.select(t.c.id, t.c.type, t.c.subject, t.c.actor, t.c.data, t.c.created_at)
                    .where(t.c.status == "pending")
                    .order_by(t.c.seq)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            for row in rows:
                envelope = Envelope(
                    row.id, row.type, self._source, row.created_at, row.subject, row.actor, row.data
                )
                ack = await self._js.publish(
                    row.type, envelope.to_json(), headers={"Nats-Msg-Id": str(row.id)}
                )
                if ack.duplicate:
                    log.info("event already in JetStream", extra={"event_id": str(row.id)})
            await conn.execute(
                t.update()
                .where(t.c.id.in_([r.id for r in rows]))
                .values(status="published", published_at=datetime.now(UTC))
            )
        return len(rows)

    async def pending_count(self) -> int:
        """Events committed but not yet published (the outbox lag)."""
        t = self._outbox
        async with self._engine.connect() as conn:
            count = await conn.scalar(
                sa.select(sa.func.count()).select_from(t).where(t.c.status == "pending")
            )
        return int(count or 0)

    async def purge_published(self) -> int:
        """Forget published events older than the retention window."""
        t = self._outbox
        cutoff = datetime.now(UTC) - self._retention
        async with self._engine.begin() as conn:
            result = await conn.execute(
                t.delete().where(t.c.status == "published", t.c.created_at < cutoff)
            )
        return int(result.rowcount or 0)


async def republish(engine: AsyncEngine, outbox: sa.Table, since: datetime, until: datetime) -> int:
    """Mark a time range of kept events pending again, so the relay publishes them anew."""
    async with engine.begin() as conn:
        result = await conn.execute(
            outbox.update()
            .where(outbox.c.created_at >= since, outbox.c.created_at < until)
            .values(status="pending", published_at=None)
        )
        await conn.execute(sa.text(f"NOTIFY {notify_channel(outbox.schema or 'public')}"))
    return int(result.rowcount or 0)
