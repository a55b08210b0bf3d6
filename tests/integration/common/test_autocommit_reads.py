"""Reads in autocommit over real PostgreSQL (`db.autocommit_reads`): a read opens no
transaction (no BEGIN before it, so no ROLLBACK when its connection goes back), and the
same pooled connection serves a unit of work afterwards as a transaction, rolled back as a
whole when it fails."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from psycopg.pq import TransactionStatus
from sqlalchemy.ext.asyncio import AsyncConnection

from services.approvals.tables import outbox
from services.common.db import PendingEvent, UnitOfWork, autocommit_reads, create_engine

pytestmark = pytest.mark.integration


async def _status(conn: AsyncConnection) -> tuple[int, TransactionStatus]:
    """The connection's server process and its transaction status (as libpq knows it)."""
    pid = (await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()
    raw = await conn.get_raw_connection()
    return pid, raw.driver_connection.info.transaction_status  # type: ignore[union-attr]


async def test_a_read_opens_no_transaction_and_leaves_units_of_work_theirs(
    database_url: str,
) -> None:
    engine, observer = create_engine(database_url, pool_size=1), create_engine(database_url)

    async def state(pid: int) -> str:
        async with observer.connect() as conn:
            query = sa.text("SELECT state FROM pg_stat_activity WHERE pid = :pid")
            return str((await conn.execute(query, {"pid": pid})).scalar_one())

    try:
        async with autocommit_reads(engine).connect() as conn:
            reader, status = await _status(conn)
            assert status == TransactionStatus.IDLE  # no BEGIN was sent
        assert await state(reader) == "idle"
        event = PendingEvent(type="approvals.test.reads", subject=f"s/{uuid.uuid4()}", data={})
        with pytest.raises(RuntimeError):
            async with UnitOfWork(engine, outbox) as uow:
                assert (await _status(uow.conn)) == (reader, TransactionStatus.INTRANS)
                await uow.conn.execute(
                    outbox.insert(),
                    {"id": event.id, "type": event.type, "subject": event.subject}
                    | {"data": event.data, "created_at": event.time},
                )
                raise RuntimeError("the unit fails after its write")
        async with engine.connect() as conn:  # a plain connection: a transaction, as ever
            assert (await _status(conn)) == (reader, TransactionStatus.INTRANS)
        async with autocommit_reads(engine).connect() as conn:
            assert (await _status(conn)) == (reader, TransactionStatus.IDLE)
            found = sa.select(outbox.c.id).where(outbox.c.subject == event.subject)
            assert (await conn.execute(found)).first() is None
        assert await state(reader) == "idle"
    finally:
        await engine.dispose()
        await observer.dispose()
