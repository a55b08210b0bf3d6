"""The worker's event consumers on one NATS connection, each restarted after a failure."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from services.common.nats import EventConsumer, connect

log = logging.getLogger(__name__)

Factory = Callable[[JetStreamContext], EventConsumer]


async def run_consumers(
    *, nats_url: str, name: str, consumers: Sequence[Factory], stop: asyncio.Event
) -> None:
    """Connect (waiting for NATS as long as it takes), consume until `stop`, drain. A
    consumer that fails starts again after a pause: the worker's workflows keep running."""
    connecting = asyncio.create_task(connect(nats_url, name=name))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not connecting.done():  # stopped before NATS was ever reached: nothing to drain
        connecting.cancel()
        # nats-py swallows a cancellation that lands in its first attempt and goes on
        # trying: wait a moment, not for ever (the process stops whether or not it ends).
        await asyncio.wait({connecting}, timeout=1.0)
        connecting.add_done_callback(_close_if_connected)
        return
    nc = connecting.result()

    async def keep_running(make: Factory) -> None:
        while not stop.is_set():
            consumer = make(nc.jetstream())
            try:
                await consumer.run(stop)
            except Exception:
                log.exception("consumer failed; restarting", extra={"consumer": type(consumer)})
                await asyncio.sleep(2.0)

    try:
        await asyncio.gather(*(keep_running(make) for make in consumers))
    finally:
        await nc.drain()


def _close_if_connected(connecting: asyncio.Task[NATS]) -> None:
    """A connection made after all, once the consumers stopped: closed unused."""
    if not connecting.cancelled() and connecting.exception() is None:
        asyncio.get_running_loop().create_task(connecting.result().close())
