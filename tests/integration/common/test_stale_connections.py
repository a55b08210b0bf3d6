"""The pool without pre-ping: a connection PostgreSQL dropped while it sat idle in the pool
is found out before it is handed out, so the unit of work gets a live one."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from services.common import db
from services.common.db import create_engine

pytestmark = pytest.mark.integration


async def _backend_pid(engine: sa.ext.asyncio.AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())


@pytest.mark.parametrize("idle_ping_seconds", [0.0, 3600.0])
async def test_a_connection_dropped_while_idle(
    database_url: str, monkeypatch: pytest.MonkeyPatch, idle_ping_seconds: float
) -> None:
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", idle_ping_seconds)
    engine, killer = create_engine(database_url, pool_size=1), create_engine(database_url)
    try:
        pid = await _backend_pid(engine)
        async with killer.connect() as conn:  # what a PostgreSQL restart does to it
            await conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        if idle_ping_seconds:  # idle for less than the threshold: not pinged, the error shows
            with pytest.raises(sa.exc.DBAPIError):
                await _backend_pid(engine)
        # Pinged (or, after the error, discarded by the pool): a fresh connection.
        assert await _backend_pid(engine) != pid
    finally:
        await engine.dispose()
        await killer.dispose()
