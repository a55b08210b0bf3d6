"""A durable consumer's ack wait on a real NATS JetStream: the setting's value, also for a
consumer that exists already with another (an operator changing NATS_ACK_WAIT_SECONDS)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import nats
import pytest

from services.common.events import Envelope
from services.common.nats import EventConsumer, provision_streams

pytestmark = pytest.mark.integration


class _Noop(EventConsumer):
    async def apply(self, event: Envelope) -> None:
        return None


async def _runs_with_ack_wait(
    consumer: EventConsumer, js: nats.js.JetStreamContext, seconds: float
) -> None:
    """Run the consumer until the server's consumer has `seconds` as its ack wait."""
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    seen: float | None = None
    try:
        for _ in range(200):
            with contextlib.suppress(nats.js.errors.NotFoundError):
                info = await js.consumer_info("DEALS", consumer._durable)
                seen = info.config.ack_wait
                if seen == seconds:
                    return
            await asyncio.sleep(0.05)  # polling the server's consumer, not waiting out a time
        raise AssertionError(f"the consumer's ack wait stayed {seen}, not {seconds}")
    finally:
        stop.set()
        await running


async def test_a_consumer_takes_the_ack_wait_set_and_a_changed_one(
    nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision_streams(js)
    durable = f"ack-wait-{uuid.uuid4().hex[:8]}"

    def consumer() -> EventConsumer:
        return _Noop(js=js, stream="DEALS", durable=durable, filter_subject="deals.nothing.>")

    try:
        await _runs_with_ack_wait(consumer(), js, 30.0)  # the default
        monkeypatch.setenv("NATS_ACK_WAIT_SECONDS", "7")
        await _runs_with_ack_wait(consumer(), js, 7.0)  # the consumer existed
    finally:
        await js.delete_consumer("DEALS", durable)
        await nc.close()


def test_an_ack_wait_that_is_not_positive_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from services.common.settings import CommonSettings

    monkeypatch.setenv("NATS_ACK_WAIT_SECONDS", "0")
    with pytest.raises(ValidationError, match="nats_ack_wait_seconds|NATS_ACK_WAIT"):
        CommonSettings()
