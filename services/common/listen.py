"""PostgreSQL LISTEN on a connection of its own, reconnecting until told to stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import psycopg

log = logging.getLogger(__name__)


async def listen_until(
    stop: asyncio.Event,
    *,
    conninfo: str,
    channel: str,
    on_ready: Callable[[], None],
    on_notify: Callable[[], None],
    on_lost: Callable[[], None] = lambda: None,
    retry_seconds: float = 1.0,
) -> None:
    """LISTEN on `channel`: `on_ready` each time the listener is (again) in place, since
    whatever was notified while it was not has been missed; `on_notify` per notification;
    `on_lost` when the connection drops."""
    loop = asyncio.create_task(
        _listen(conninfo, channel, on_ready, on_notify, on_lost, retry_seconds)
    )
    try:
        await stop.wait()
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop


async def _listen(
    conninfo: str,
    channel: str,
    on_ready: Callable[[], None],
    on_notify: Callable[[], None],
    on_lost: Callable[[], None],
    retry_seconds: float,
) -> None:
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(f"LISTEN {channel}")
                on_ready()
                async for _ in conn.notifies():
                    on_notify()
        except Exception:
            log.warning("LISTEN %s connection lost; reconnecting", channel, exc_info=True)
        finally:
            on_lost()
        await asyncio.sleep(retry_seconds)
