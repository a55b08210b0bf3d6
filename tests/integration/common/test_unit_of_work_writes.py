"""The unit of work's cheaper writes over real PostgreSQL: events as one cached statement in
their order, and a last write sent with the COMMIT (pipeline mode) that commits with the rest
of the unit or, when it fails, takes the whole unit back."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.approvals.tables import outbox
from services.common.db import PendingEvent, UnitOfWork, create_engine

pytestmark = pytest.mark.integration


def _event(n: int) -> PendingEvent:
    return PendingEvent(type="approvals.test.uow", subject=f"s/{uuid.uuid4()}", data={"n": n})


async def _outbox_rows(conn: AsyncConnection, subjects: list[str]) -> list[int]:
    rows = await conn.execute(
        sa.select(outbox.c.data).where(outbox.c.subject.in_(subjects)).order_by(outbox.c.seq)
    )
    return [int(r.data["n"]) for r in rows]


async def test_events_are_written_in_their_order_by_one_cached_statement(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        events = [_event(n) for n in range(5)]
        async with UnitOfWork(engine, outbox) as uow:
            for e in events:
                uow.emit(e)
        async with UnitOfWork(engine, outbox) as uow:
            uow.emit(lone := _event(9))
        async with engine.connect() as conn:
            assert await _outbox_rows(conn, [e.subject for e in events]) == [0, 1, 2, 3, 4]
            assert await _outbox_rows(conn, [lone.subject]) == [9]
    finally:
        await engine.dispose()


async def test_a_write_sent_with_the_commit_commits_with_the_unit(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        first, last = _event(1), _event(2)
        async with UnitOfWork(engine, outbox) as uow:
            uow.emit(first)
            uow.write_at_commit(
                outbox.insert(),
                {"id": last.id, "type": last.type, "subject": last.subject, "data": last.data}
                | {"created_at": last.time},
            )
        async with engine.connect() as conn:
            assert await _outbox_rows(conn, [first.subject, last.subject]) == [1, 2]
    finally:
        await engine.dispose()


async def test_a_failing_write_sent_with_the_commit_takes_the_unit_back(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        kept, clash = _event(1), _event(2)
        with pytest.raises(sa.exc.IntegrityError):
            async with UnitOfWork(engine, outbox) as uow:
                uow.emit(kept)
                uow.write_at_commit(  # the same id as the event emitted: a key violation
                    outbox.insert(),
                    {"id": kept.id, "type": clash.type, "subject": clash.subject}
                    | {"data": clash.data, "created_at": clash.time},
                )
        async with engine.connect() as conn:
            assert await _outbox_rows(conn, [kept.subject, clash.subject]) == []
            assert await conn.scalar(sa.select(sa.literal(1))) == 1  # the pool's connection works
    finally:
        await engine.dispose()


async def _locked_by_another(engine: AsyncEngine, event_id: uuid.UUID) -> bool:
    async with engine.connect() as other:
        await other.execute(sa.text("SET LOCAL lock_timeout = '50ms'"))
        try:
            await other.execute(
                sa.select(outbox.c.id).where(outbox.c.id == event_id).with_for_update()
            )
        except sa.exc.OperationalError:
            return True
        return False


_LOCK_EVENT = (
    sa.select(outbox.c.id, outbox.c.data)
    .where(outbox.c.id == sa.bindparam("b_id", type_=outbox.c.id.type))
    .with_for_update()
)


async def test_a_read_sent_with_the_begin_holds_its_lock_until_the_unit_ends(
    database_url: str,
) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        held, later = _event(1), _event(2)
        async with UnitOfWork(engine, outbox) as uow:
            uow.emit(held)
        async with UnitOfWork(engine, outbox) as uow:
            rows = await uow.read_at_begin(_LOCK_EVENT, {"b_id": held.id})
            assert [(r.id, r.data) for r in rows] == [(held.id, {"n": 1})]
            assert await _locked_by_another(engine, held.id)
            uow.emit(later)
        assert not await _locked_by_another(engine, held.id)
        async with engine.connect() as conn:
            assert await _outbox_rows(conn, [later.subject]) == [2]
            raw = await conn.get_raw_connection()  # the pool's one connection
            assert raw.driver_connection is not None and not raw.driver_connection.autocommit
    finally:
        await engine.dispose()


async def test_a_unit_begun_with_its_read_that_fails_takes_everything_back(
    database_url: str,
) -> None:
    engine = create_engine(database_url, pool_size=1)
    delete = outbox.delete().where(outbox.c.id == sa.bindparam("b_id", type_=outbox.c.id.type))
    try:
        held, dropped = _event(1), _event(2)
        async with UnitOfWork(engine, outbox) as uow:
            uow.emit(held)
        with pytest.raises(RuntimeError):
            async with UnitOfWork(engine, outbox) as uow:
                await uow.read_at_begin(_LOCK_EVENT, {"b_id": held.id})
                await uow.conn.execute(delete, {"b_id": held.id})
                uow.emit(dropped)
                raise RuntimeError("the use case refuses")
        with pytest.raises(sa.exc.DataError):  # the driver's error, wrapped as SQLAlchemy's
            async with UnitOfWork(engine, outbox) as uow:
                await uow.read_at_begin(sa.select(sa.literal_column("1 / 0")), {})
        with pytest.raises(RuntimeError):  # the pool's one connection, out of autocommit
            async with UnitOfWork(engine, outbox) as uow:
                await uow.conn.execute(delete, {"b_id": held.id})
                raise RuntimeError("taken back")
        async with engine.connect() as conn:
            assert await _outbox_rows(conn, [held.subject, dropped.subject]) == [1]
    finally:
        await engine.dispose()
