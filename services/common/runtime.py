"""Runs a service process: gRPC server, outbox relay and event consumers, one lifecycle."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any

import grpc
import sqlalchemy as sa
import uvloop
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.grpc_server import Background, serve
from services.common.nats import connect
from services.common.outbox import OutboxRelay
from services.common.settings import ServiceSettings
from services.common.tracing import instrument_grpc_client, instrument_grpc_server, setup_tracing

log = logging.getLogger(__name__)

ConsumerFactory = Callable[[JetStreamContext], Background]


def run_main(main: Coroutine[Any, Any, None]) -> None:
    """Run a service process's main coroutine on uvloop (libuv's event loop), which spends
    less CPU per socket wake-up and callback than asyncio's own loop."""
    uvloop.run(main)


async def run_service(
    *,
    name: str,
    settings: ServiceSettings,
    engine: AsyncEngine,
    outbox: sa.Table,
    register: Callable[[grpc.aio.Server], Sequence[str]],
    consumers: Sequence[ConsumerFactory] = (),
) -> None:
    """Serve until SIGTERM: the relay publishes this service's outbox to JetStream and each
    consumer applies the events it subscribes to."""
    if setup_tracing(name):
        instrument_grpc_server()
        instrument_grpc_client()
    nc = await connect(settings.nats_url, name=name)
    js = nc.jetstream()
    relay = OutboxRelay(
        engine=engine,
        outbox=outbox,
        js=js,
        source=name,
        retention=timedelta(hours=settings.outbox_retention_hours),
    )

    async def close() -> None:
        try:  # flush what was published; never let a stuck drain hold the shutdown
            await asyncio.wait_for(nc.drain(), timeout=settings.shutdown_grace_seconds)
        except Exception:  # TimeoutError included
            log.warning("NATS drain did not finish; closing", exc_info=True)
            await nc.close()
        await engine.dispose()

    await serve(
        name=name,
        host=settings.grpc_host,
        port=settings.grpc_port,
        register=register,
        background=[relay.run, *(make(js) for make in consumers)],
        grace_seconds=settings.shutdown_grace_seconds,
        on_stop=close,
    )
