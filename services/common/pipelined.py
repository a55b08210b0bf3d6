"""A unit of work's first read sent with its BEGIN, and its last write with its COMMIT, in
psycopg's pipeline mode: one round trip each instead of two.

SQLAlchemy has no pipeline API, so this reaches the driver's connection for the length of
one `async with driver.pipeline()`. Only the exit of a pipeline syncs (one Sync, one
answer for everything queued), so nothing inside may wait for a result:

- **BEGIN with the first read** (`begin_with`): psycopg sends its own BEGIN in a round trip
  of its own, also in pipeline mode (it syncs to learn the transaction status), so the
  driver is put in autocommit for the unit, which makes psycopg send no BEGIN, and the
  BEGIN is queued by hand before the read. SQLAlchemy reads rows only when psycopg has them
  at `execute` (not so in pipeline mode), so the read goes to the driver's cursor: the
  statement is compiled once per dialect and its rows come back as named tuples. The
  connection leaves autocommit as it goes back to the pool (`restore_after_begin`, the
  engine's `reset` listener, after the unit's COMMIT or ROLLBACK); statements after the
  read run in the transaction the BEGIN opened, COMMIT and ROLLBACK end it as before.
- **The last write with the COMMIT** (`commit_with`): the write still goes through
  SQLAlchemy (compiled and cached as usual; its result, which nothing reads, is held back),
  then the COMMIT is queued, and the pipeline's exit syncs both. SQLAlchemy's own commit
  afterwards sends nothing (the transaction is over).

The driver's errors raised by a pipeline's sync are wrapped as SQLAlchemy wraps them
(`sa.exc.IntegrityError`, `OperationalError`, ...), so callers see the same exceptions as
for any other statement."""

from __future__ import annotations

import contextlib
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg.rows import namedtuple_row
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import ConnectionPoolEntry, PoolResetState
from sqlalchemy.sql.compiler import SQLCompiler

# Set in a pooled connection's `info` while its driver is in autocommit for a unit's BEGIN.
BEGUN_IN_AUTOCOMMIT = "begun_in_autocommit"

_compiled: dict[tuple[sa.ClauseElement, type[Dialect]], str] = {}


def _driver_sql(statement: sa.ClauseElement, dialect: Dialect) -> str:
    """The statement's SQL for the driver, compiled once; its parameters go to the driver
    as given, so none may need SQLAlchemy's bind processing."""
    key = (statement, type(dialect))
    sql = _compiled.get(key)
    if sql is None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        for bind in compiled.binds.values():
            if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
                raise TypeError(f"parameter {bind.key} needs SQLAlchemy's bind processing")
        sql = _compiled[key] = compiled.string
    return sql


async def begin_with(
    conn: AsyncConnection, statement: sa.ClauseElement, params: dict[str, Any]
) -> list[Any]:
    """BEGIN and `statement` in one round trip, as the first statement of `conn`'s
    transaction; its rows as named tuples (by column label)."""
    raw = await conn.get_raw_connection()
    driver: psycopg.AsyncConnection[Any] | None = raw.driver_connection
    assert driver is not None
    if driver.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise RuntimeError("begin_with must be the transaction's first statement")
    sql = _driver_sql(statement, conn.dialect)
    await driver.set_autocommit(True)
    raw.info[BEGUN_IN_AUTOCOMMIT] = True
    cursor = driver.cursor(row_factory=namedtuple_row)
    try:
        async with driver.pipeline():
            await driver.execute(b"BEGIN", prepare=False)
            await cursor.execute(sql, params)
        return await cursor.fetchall()
    except psycopg.Error as exc:
        raise _wrapped(exc, sql, params, conn.dialect) from exc


async def commit_with(
    conn: AsyncConnection, statement: sa.Executable, params: dict[str, Any]
) -> None:
    """Execute `statement` (its rows, if any, are discarded) and commit, in one round trip."""
    raw = await conn.get_raw_connection()
    driver: psycopg.AsyncConnection[Any] | None = raw.driver_connection
    assert driver is not None
    try:
        try:
            async with driver.pipeline():
                await conn.execute(statement, params)
                await driver.execute(b"COMMIT", prepare=False)
        except psycopg.Error as exc:
            raise _wrapped(exc, "COMMIT", params, conn.dialect) from exc
        await conn.commit()  # SQLAlchemy's end of the transaction: nothing left to send
    except BaseException:
        # A failed write or COMMIT leaves the driver's transaction aborted where SQLAlchemy,
        # which never saw it fail, would not roll it back: roll back here (a dead
        # connection raises again, and the pool discards it).
        with contextlib.suppress(Exception):
            await driver.rollback()
        raise


def _wrapped(
    exc: psycopg.Error, sql: str, params: dict[str, Any], dialect: Dialect
) -> BaseException:
    return sa.exc.DBAPIError.instance(sql, params, exc, psycopg.Error, dialect=dialect)


def restore_after_begin(
    dbapi_connection: Any, record: ConnectionPoolEntry, state: PoolResetState
) -> None:
    """The pool's `reset` listener: a connection that `begin_with` put in autocommit goes
    back to the pool out of it (its transaction rolled back first if the unit left one
    open, as the pool's own reset would). An error here makes the pool discard it."""
    if record.info.pop(BEGUN_IN_AUTOCOMMIT, False) and state.asyncio_safe:
        dbapi_connection.rollback()
        dbapi_connection.autocommit = False
