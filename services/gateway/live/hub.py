"""The live event hub: one per gateway process. It follows the DEALS and NOTIFICATIONS
streams with ordered (ephemeral, unacknowledged) JetStream consumers, keeps the last
`backlog` events of each in memory (loaded from JetStream at start, so a client resumes
across a gateway restart), and hands each event to every open stream whose user may see it.

An event's id is the position of both streams after it, `<deals seq>.<notifications seq>`:
a client resuming with `Last-Event-ID` gets every kept event after that position, whichever
gateway process it reconnects to (the sequences are the streams', not the process's)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import nats
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from services.common.events import Envelope
from services.common.nats import provision_streams
from services.gateway.live.visibility import DealRef, deal_id_of, deal_ref_in

log = logging.getLogger(__name__)

STREAMS = ("DEALS", "NOTIFICATIONS")
SUBJECTS = {"DEALS": "deals.>", "NOTIFICATIONS": "notifications.>"}
# A deal the hub has not seen an event of (older than the backlog): asked of the deals service.
FetchDeal = Callable[[int], Awaitable[DealRef | None]]


@dataclass(frozen=True)
class Position:
    """How far into each stream a client has got."""

    deals: int = 0
    notifications: int = 0

    def __str__(self) -> str:
        return f"{self.deals}.{self.notifications}"

    @classmethod
    def parse(cls, raw: str | None) -> Position | None:
        """A Last-Event-ID; None when absent or not one of ours (then: from now on)."""
        if not raw:
            return None
        deals, dot, notifications = raw.strip().partition(".")
        if not (dot and deals.isdigit() and notifications.isdigit()):
            return None
        return cls(int(deals), int(notifications))

    def after(self, stream: str, seq: int) -> Position:
        if stream == "DEALS":
            return Position(max(self.deals, seq), self.notifications)
        return Position(self.deals, max(self.notifications, seq))

    def has(self, stream: str, seq: int) -> bool:
        """Whether the client already got that event."""
        return seq <= (self.deals if stream == "DEALS" else self.notifications)


@dataclass(frozen=True)
class LiveEvent:
    stream: str
    seq: int
    position: Position  # of both streams once this event is delivered
    envelope: Envelope


class Listener:
    """One open stream's inbox; `overflowed` when its client reads too slowly."""

    def __init__(self, limit: int) -> None:
        self.queue: asyncio.Queue[LiveEvent] = asyncio.Queue(limit)
        self.overflowed = False

    def offer(self, event: LiveEvent) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True


class Hub:
    def __init__(self, *, backlog: int = 10_000, listener_limit: int = 1_000) -> None:
        self._backlog: deque[LiveEvent] = deque(maxlen=backlog)
        self._backlog_size = backlog
        self._listener_limit = listener_limit
        self._listeners: set[Listener] = set()
        self._position = Position()
        self._deals: dict[int, DealRef] = {}
        self._fetch_deal: FetchDeal | None = None
        self._nc: NATS | None = None
        self._subs: list[JetStreamContext.PushSubscription] = []
        # Set once the kept events up to the streams' ends at start are loaded: a stream
        # opened before would get them as if they were new.
        self.ready = asyncio.Event()
        self._loading: dict[str, int] = {}

    @property
    def position(self) -> Position:
        return self._position

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    async def start(self, nats_url: str, fetch_deal: FetchDeal) -> None:
        """Connect (retrying while NATS is not up) and follow the streams."""
        self._fetch_deal = fetch_deal
        delay = 0.5
        while True:
            try:
                self._nc = await nats.connect(
                    nats_url, name="gateway-live", max_reconnect_attempts=-1
                )
                js = self._nc.jetstream()
                await provision_streams(js)
                for stream in STREAMS:
                    state = (await js.stream_info(stream)).state
                    last = state.last_seq
                    self._loading[stream] = last if state.messages else 0  # purged: nothing
                    first = max(1, last - self._backlog_size + 1)
                    self._subs.append(
                        await js.subscribe(
                            SUBJECTS[stream],
                            stream=stream,
                            cb=self._receiver(stream),
                            ordered_consumer=True,
                            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                            config=ConsumerConfig(opt_start_seq=first),
                        )
                    )
            except Exception as exc:  # NATS not reachable yet: retry, as the Temporal client does
                log.warning("live events: NATS not reachable, retrying: %s", exc)
                await self._close_nats()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            else:
                self._check_loaded()
                return

    async def close(self) -> None:
        await self._close_nats()

    async def _close_nats(self) -> None:
        for sub in self._subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        self._subs.clear()
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
            self._nc = None

    def _receiver(self, stream: str) -> Callable[[Msg], Awaitable[None]]:
        async def receive(msg: Msg) -> None:
            try:
                envelope = Envelope.from_json(msg.data)
            except (ValueError, KeyError, TypeError):
                return
            await self.publish(stream, msg.metadata.sequence.stream, envelope)

        return receive

    async def publish(self, stream: str, seq: int, envelope: Envelope) -> None:
        """Keep the event and hand it to every listener (each filters by its user)."""
        if self._position.has(stream, seq):  # redelivered after a reconnect
            return
        ref = deal_ref_in(envelope)
        deal_id = deal_id_of(envelope)
        if ref is not None and deal_id is not None:
            self._remember(deal_id, ref)
        elif deal_id is not None and deal_id not in self._deals and self._fetch_deal:
            found = await self._fetch_deal(deal_id)
            if found is not None:
                self._remember(deal_id, found)
        self._position = self._position.after(stream, seq)
        event = LiveEvent(stream, seq, self._position, envelope)
        self._backlog.append(event)
        for listener in list(self._listeners):
            listener.offer(event)
        if not self.ready.is_set():
            self._check_loaded()

    def _check_loaded(self) -> None:
        if self._loading and all(self._position.has(s, n) for s, n in self._loading.items()):
            self.ready.set()

    def _remember(self, deal_id: int, ref: DealRef) -> None:
        if len(self._deals) > 100_000:
            self._deals.clear()
        self._deals[deal_id] = ref

    def kept_from(self, stream: str) -> int | None:
        """The oldest kept event's sequence in a stream (None: none kept)."""
        return next((e.seq for e in self._backlog if e.stream == stream), None)

    def deal(self, deal_id: int) -> DealRef | None:
        return self._deals.get(deal_id)

    def listen(self, since: Position | None) -> tuple[Listener, list[LiveEvent]]:
        """A new listener and the kept events after `since` (none without it). No await
        between taking the backlog and registering, so no event falls in between."""
        listener = Listener(self._listener_limit)
        missed = (
            [] if since is None else [e for e in self._backlog if not since.has(e.stream, e.seq)]
        )
        self._listeners.add(listener)
        return listener, missed

    def leave(self, listener: Listener) -> None:
        self._listeners.discard(listener)
