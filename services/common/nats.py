"""NATS JetStream: connection, stream and durable-consumer provisioning, the fetch/ack loop
of a durable consumer, and a consumer that applies each event exactly once (inbox table +
ack after commit)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import nats
import sqlalchemy as sa
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common.errors import DomainError
from services.common.events import STREAMS, Envelope
from services.common.metrics import CONSUMER_LAG
from services.common.settings import CommonSettings

log = logging.getLogger(__name__)

Handler = Callable[[AsyncConnection, Envelope], Awaitable[None]]


async def connect(url: str, *, name: str) -> NATS:
    """Connect and keep reconnecting forever: a NATS restart must not end the process."""

    async def on_error(exc: Exception) -> None:
        # One line per failed attempt (nats-py's default logs a whole traceback each time,
        # twice a second per connection while NATS is down).
        log.warning("nats: %s", exc or type(exc).__name__, extra={"connection": name})

    return await nats.connect(
        url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=5,
        error_cb=on_error,
    )


async def provision_streams(js: JetStreamContext) -> None:
    """Create (or update) the file-backed streams every service publishes to."""
    for name, subject in STREAMS.items():
        config = StreamConfig(
            name=name,
            subjects=[subject],
            storage=StorageType.FILE,
            duplicate_window=120.0,
            max_age=7 * 24 * 3600.0,
        )
        try:
            await js.stream_info(name)
            await js.update_stream(config)
        except NotFoundError:
            await js.add_stream(config)


async def provision_consumer(
    js: JetStreamContext, *, stream: str, durable: str, filter_subject: str, ack_wait: float
) -> None:
    """A durable pull consumer with bounded redelivery (ack_wait, max_deliver, backoff);
    an existing one takes a changed `ack_wait`."""
    config = ConsumerConfig(
        durable_name=durable,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=ack_wait,
        max_deliver=20,
        filter_subject=filter_subject,
        max_ack_pending=1000,
    )
    await js.add_consumer(stream, config)


class EventConsumer:
    """Fetches from a durable consumer and hands each event to `apply`.

    Ack after `apply` returns; a malformed message or a domain error is terminated (it will
    never succeed); anything else is nak'ed with a delay and retried. `apply` must be
    idempotent: a message is redelivered when its ack is lost or late.
    """

    def __init__(
        self,
        *,
        js: JetStreamContext,
        stream: str,
        durable: str,
        filter_subject: str,
        batch: int = 64,
        clock: Callable[[], float] = time.monotonic,
        ack_wait: float | None = None,
    ) -> None:
        """`ack_wait`: seconds; by default NATS_ACK_WAIT_SECONDS (30)."""
        self._js = js
        self._ack_wait = ack_wait or CommonSettings().nats_ack_wait_seconds
        self._stream, self._durable, self._filter = stream, durable, filter_subject
        self._batch = batch
        self._clock = clock
        # None: not reported yet, so due now (a 0.0 start would wait out the first seconds of
        # a freshly booted machine's monotonic clock).
        self._lag_reported: float | None = None

    async def apply(self, event: Envelope) -> object:
        raise NotImplementedError

    async def run(self, stop: asyncio.Event) -> None:
        await provision_consumer(
            self._js,
            stream=self._stream,
            durable=self._durable,
            filter_subject=self._filter,
            ack_wait=self._ack_wait,
        )
        sub = await self._js.pull_subscribe_bind(self._durable, stream=self._stream)
        log.info("consumer started", extra={"durable": self._durable, "stream": self._stream})
        try:
            while not stop.is_set():
                try:
                    messages = await sub.fetch(self._batch, timeout=1.0)
                except (TimeoutError, nats.errors.TimeoutError):
                    await self._report_lag(sub)
                    continue
                except Exception:  # connection loss while NATS restarts: retry after a pause
                    log.warning("fetch failed; retrying", exc_info=True)
                    await asyncio.sleep(0.5)
                    continue
                await self._process_all(messages)
                if self._lag_due():  # also while busy, not idle
                    await self._report_lag(sub)
        finally:
            # A pull subscription left open makes the connection's drain wait out its whole
            # timeout (30 s) at shutdown; the durable consumer itself stays on the server.
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    def _lag_due(self) -> bool:
        return self._lag_reported is None or self._clock() - self._lag_reported > 5.0

    async def _report_lag(self, sub: JetStreamContext.PullSubscription) -> None:
        self._lag_reported = self._clock()
        with contextlib.suppress(Exception):
            info = await sub.consumer_info()
            CONSUMER_LAG.labels(self._durable).set(info.num_pending + info.num_ack_pending)

    async def _process_all(self, messages: list[nats.aio.msg.Msg]) -> None:
        for msg in messages:
            await self._process(msg)

    async def _process(self, msg: nats.aio.msg.Msg) -> None:
        try:
            event = Envelope.from_json(msg.data)
        except (ValueError, KeyError, TypeError):
            log.error("malformed event terminated", extra={"subject": msg.subject})
            await msg.term()
            return
        try:
            await self.apply(event)
        except DomainError as exc:
            log.error(
                "event rejected by handler; terminated",
                extra={"event_id": str(event.id), "type": event.type, "error": exc.message},
            )
            await msg.term()
            return
        except Exception:
            log.warning("event handling failed; will retry", exc_info=True)
            await msg.nak(delay=1.0)
            return
        await msg.ack()


class Consumer(EventConsumer):
    """Applies each event exactly once: in one transaction, record the event id in the
    inbox table and run the handler only if the id was new; commit; then ack. A redelivered
    or duplicated event finds its id and is acked without effect."""

    def __init__(
        self,
        *,
        js: JetStreamContext,
        engine: AsyncEngine,
        inbox: sa.Table,
        stream: str,
        durable: str,
        filter_subject: str,
        handler: Handler,
        batch: int = 64,
    ) -> None:
        super().__init__(
            js=js, stream=stream, durable=durable, filter_subject=filter_subject, batch=batch
        )
        self._engine, self._inbox = engine, inbox
        self._handler = handler
        # Built once (a statement built per event cost its construction and cache key).
        self._record_id = (
            insert(inbox)
            .values(
                consumer=durable,
                event_id=sa.bindparam("b_event_id", type_=inbox.c.event_id.type),
                processed_at=sa.bindparam("b_at", type_=inbox.c.processed_at.type),
            )
            .on_conflict_do_nothing()
            .returning(inbox.c.event_id)
        )

    async def apply(self, event: Envelope) -> bool:
        """Apply the event unless already applied; True when this call applied it."""
        async with self._engine.begin() as conn:
            return await self._apply_in(conn, event)

    async def _apply_in(self, conn: AsyncConnection, event: Envelope) -> bool:
        inserted = await conn.execute(
            self._record_id, {"b_event_id": event.id, "b_at": datetime.now(UTC)}
        )
        if inserted.first() is None:
            return False
        await self._handler(conn, event)
        return True

    async def _process_all(self, messages: list[nats.aio.msg.Msg]) -> None:
        """A fetched batch in one transaction (one commit, not one per event); when any of
        its events fails or is malformed, the batch is rolled back and applied one by one,
        so that only that event is retried or terminated."""
        try:
            events = [Envelope.from_json(msg.data) for msg in messages]
        except (ValueError, KeyError, TypeError):
            events = []
        if len(events) < 2:
            await super()._process_all(messages)
            return
        try:
            async with self._engine.begin() as conn:
                for event in events:
                    await self._apply_in(conn, event)
        except Exception:
            log.info("batch not applied at once; one event at a time", exc_info=True)
            await super()._process_all(messages)
            return
        for msg in messages:
            await msg.ack()
