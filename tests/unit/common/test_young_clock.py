"""Periodic work is due at once in a fresh process, whatever the machine's uptime.

A monotonic clock starts near zero on a freshly booted machine or container; "never done"
written as 0.0 made the first run wait until the clock passed the period. These tests run
the code on a clock that reads 5.0, as a machine five seconds after boot would.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from services.common.events import Envelope
from services.common.nats import EventConsumer


class YoungClock:
    def __init__(self, now: float = 5.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeSub:
    """One batch with a message, then nothing; counts the lag look-ups."""

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.batches = 0
        self.lag_asked = 0

    async def fetch(self, batch: int, timeout: float) -> list[Any]:
        self.batches += 1
        if self.batches > 1:
            self.stop.set()
            return []
        return [SimpleNamespace(data=b"not an envelope", subject="deals.x", term=_noop)]

    async def consumer_info(self) -> Any:
        self.lag_asked += 1
        return SimpleNamespace(num_pending=0, num_ack_pending=0)

    async def unsubscribe(self) -> None:
        return None


async def _noop() -> None:
    return None


class FakeJetStream:
    def __init__(self, sub: FakeSub) -> None:
        self.sub = sub

    async def add_consumer(self, stream: str, config: Any) -> None:
        return None

    async def pull_subscribe_bind(self, durable: str, stream: str) -> FakeSub:
        return self.sub


class Ignore(EventConsumer):
    async def apply(self, event: Envelope) -> object:
        return None


async def test_a_consumer_reports_its_lag_after_its_first_batch_on_a_young_clock() -> None:
    stop = asyncio.Event()
    sub = FakeSub(stop)
    consumer = Ignore(
        js=FakeJetStream(sub),
        stream="DEALS",
        durable="d",
        filter_subject="deals.>",
        clock=YoungClock(5.0),
    )

    await asyncio.wait_for(consumer.run(stop), 5)

    assert sub.lag_asked == 1, "the first batch reports the lag; the next, 0 s later, does not"


async def test_a_consumer_reports_again_only_after_five_seconds() -> None:
    clock = YoungClock(5.0)
    consumer = Ignore(js=None, stream="S", durable="d", filter_subject="x", clock=clock)
    assert consumer._lag_due()
    await consumer._report_lag(FakeSub(asyncio.Event()))
    clock.now = 9.0
    assert not consumer._lag_due()
    clock.now = 10.5
    assert consumer._lag_due()
