"""A unit of work's last write sent with its COMMIT, in psycopg's pipeline mode.

SQLAlchemy has no pipeline API, so this reaches the driver's connection for the length of
one `async with`: the statement still goes through SQLAlchemy (compiled and cached as
usual), and psycopg holds its result back (a write's result is not read) until the COMMIT
syncs the pipeline, which raises any error of either, wrapped by SQLAlchemy like any other.
One round trip instead of two; used for a stage move (`move_writes`)."""

from __future__ import annotations

import contextlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection


async def commit_with(
    conn: AsyncConnection, statement: sa.Executable, params: dict[str, Any]
) -> None:
    """Execute `statement` (its rows, if any, are discarded) and commit, in one round trip."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    try:
        async with driver.pipeline():
            await conn.execute(statement, params)
            await conn.commit()
    except BaseException:
        # The failed COMMIT leaves the driver's transaction aborted where SQLAlchemy, which
        # saw it end, will not roll it back on its way to the pool: roll back here (a dead
        # connection raises again, and the pool discards it).
        with contextlib.suppress(Exception):
            await driver.rollback()
        raise
