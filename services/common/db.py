"""Database access: one async engine per process, a unit of work per change.

Each service keeps its tables in its own PostgreSQL schema; the unit of work writes the
change and the events it produces (into that schema's outbox) in one transaction.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from services.common.pipelined import begin_with, commit_with, restore_after_begin

# A connection back in the pool for longer than this is pinged before it is handed out.
IDLE_PING_SECONDS = 5.0


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """The process's engine. Not `pool_pre_ping` (a `SELECT 1` round trip per unit of work,
    ≈ 8 % of a move's CPU in the deals service): a connection is pinged only when it has
    been idle for `IDLE_PING_SECONDS`, which is when a restarted or dropped PostgreSQL
    leaves it stale; under load a dead connection shows itself on its first statement,
    and SQLAlchemy then discards every connection opened before, so one unit of work
    fails (as those in flight at the outage do) and the next ones reconnect."""
    engine = create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800
    )
    sa.event.listen(engine.sync_engine, "checkin", _mark_idle)
    sa.event.listen(engine.sync_engine, "checkout", _pinger(engine.dialect))
    sa.event.listen(engine.sync_engine, "reset", restore_after_begin)
    return engine


def autocommit_reads(engine: AsyncEngine) -> AsyncEngine:
    """The engine (its pool) for reads: its connections run each statement in a transaction
    of its own, so a read sends no BEGIN before its first statement nor a ROLLBACK when it
    gives the connection back — two of a read's three round trips when it is one statement.
    A connection's autocommit is reset as it goes back to the pool, so a unit of work on it
    is a transaction as before. Only for reads that need no snapshot across statements."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def _mark_idle(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


def _pinger(dialect: Dialect) -> Callable[[Any, ConnectionPoolEntry, Any], None]:
    def ping_if_idle_long(dbapi_connection: Any, record: ConnectionPoolEntry, _: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if not dialect.is_disconnect(exc, dbapi_connection, None):
                raise
            alive = False
        if not alive:  # the pool drops every connection opened before, then checks out again
            raise sa.exc.InvalidatePoolError("stale connection")

    return ping_if_idle_long


def psycopg_conninfo(engine: AsyncEngine) -> str:
    """The engine's URL as a plain libpq connection string (for LISTEN and COPY)."""
    url = engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def utcnow() -> datetime:
    return datetime.now(UTC)


def outbox_table(metadata: sa.MetaData) -> sa.Table:
    """The transactional outbox of a service, in that service's schema."""
    return sa.Table(
        "outbox",
        metadata,
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False, server_default=""),
        sa.Column("data", pg.JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Index("ix_outbox_pending", "seq", postgresql_where=sa.text("status = 'pending'")),
        sa.Index("ix_outbox_created_at", "created_at"),
    )


def inbox_table(metadata: sa.MetaData) -> sa.Table:
    """Ids of the events a consumer has applied, so a redelivery applies nothing twice."""
    return sa.Table(
        "processed_events",
        metadata,
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )


def notify_channel(schema: str) -> str:
    return f"{schema}_outbox"


@dataclass
class PendingEvent:
    """An event recorded by a unit of work, written to the outbox at commit."""

    type: str
    subject: str
    data: dict[str, Any]
    actor: str = ""
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    time: datetime = field(default_factory=utcnow)


class UnitOfWork:
    """`async with uow:` opens a transaction; `emit` queues events; leaving commits both."""

    def __init__(self, engine: AsyncEngine, outbox: sa.Table) -> None:
        self._engine = engine
        self._outbox = outbox
        self._events: list[PendingEvent] = []
        self._conn: AsyncConnection | None = None
        self._last_write: tuple[sa.Executable, dict[str, Any]] | None = None

    @property
    def conn(self) -> AsyncConnection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._conn

    def emit(self, event: PendingEvent) -> None:
        self._events.append(event)

    async def read_at_begin(self, statement: sa.ClauseElement, params: dict[str, Any]) -> list[Any]:
        """The unit's first statement, a read sent with its BEGIN in one round trip
        (`pipelined`); its rows as named tuples. Only for a statement whose parameters need
        no bind processing (ids, text) and whose columns psycopg loads as SQLAlchemy would
        (numbers, text, JSON, timestamps)."""
        return await begin_with(self.conn, statement, params)

    def write_at_commit(self, statement: sa.Executable, params: dict[str, Any]) -> None:
        """Send this write with the COMMIT, in one round trip (`pipelined`); its
        error, if any, is raised as the unit of work ends. Only for a write whose result
        nothing reads, after the unit of work's last read."""
        self._last_write = (statement, params)

    async def __aenter__(self) -> UnitOfWork:
        self._events, self._last_write = [], None
        self._conn = await self._engine.connect()
        await self._conn.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self.conn, None
        try:
            if exc_type is None:
                await self._flush_events(conn)
                if self._last_write is None:
                    await conn.commit()
                else:
                    await commit_with(conn, *self._last_write)
            else:
                await conn.rollback()
        finally:
            await conn.close()

    async def _flush_events(self, conn: AsyncConnection) -> None:
        await write_events(conn, self._outbox, self._events)
        self._events = []


async def write_events(
    conn: AsyncConnection, outbox: sa.Table, events: Sequence[PendingEvent]
) -> None:
    """Put events in the outbox on the caller's transaction (a consumer's handler has no
    unit of work of its own) and wake the relay once it commits: one statement for both."""
    if not events:
        return
    await conn.execute(events_statement(outbox), event_columns(events))


def event_columns(events: Sequence[PendingEvent]) -> dict[str, list[Any]]:
    """The parameters of `events_statement`: one array per column."""
    return {
        "e_id": [e.id for e in events],
        "e_type": [e.type for e in events],
        "e_subject": [e.subject for e in events],
        "e_actor": [e.actor for e in events],
        "e_data": [e.data for e in events],
        "e_created_at": [e.time for e in events],
    }


_OUTBOX_COLUMNS = ("id", "type", "subject", "actor", "data", "created_at")


@functools.cache
def events_statement(outbox: sa.Table) -> sa.Select[Any]:
    """`INSERT … SELECT FROM unnest(arrays)` plus the relay's NOTIFY, built once per outbox:
    one statement form for any number of events, so SQLAlchemy compiles it once (a
    multi-row `values([...])` is never cached; compiling it each time was ≈ 13 % of the
    notifications service's CPU and ≈ 6 % of the deals service's under B1)."""
    arrays = [
        sa.bindparam(f"e_{name}", type_=pg.ARRAY(outbox.c[name].type)) for name in _OUTBOX_COLUMNS
    ]
    rows = sa.func.unnest(*arrays).table_valued(*_OUTBOX_COLUMNS).render_derived("rows")
    written = (
        outbox.insert()
        .from_select(list(_OUTBOX_COLUMNS), sa.select(*(rows.c[n] for n in _OUTBOX_COLUMNS)))
        .cte("written")
    )
    channel = notify_channel(outbox.schema or "public")
    return sa.select(sa.func.pg_notify(channel, "")).add_cte(written)
