"""The PostgreSQL idempotency store against a real, migrated database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from deploy.local.stack import free_port
from services.common.db import create_engine
from services.gateway.idempotency_store import (
    Busy,
    KeyScope,
    Mismatch,
    Owned,
    PostgresStore,
    Replay,
    StoredResponse,
    StoreUnavailable,
)
from services.gateway.tables import idempotency_keys

pytestmark = pytest.mark.integration
LEASE = timedelta(seconds=30)
ANSWER = StoredResponse(201, [("content-type", "application/json"), ("etag", 'W/"1"')], b'{"id":1}')


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[PostgresStore]:
    s = PostgresStore(create_engine(database_url, pool_size=12), timeout=5.0)
    yield s
    await s.engine.dispose()


def scope(key: str, principal: str = "user:7") -> KeyScope:
    return KeyScope(principal, "POST", "/api/v1/deals", key)


async def test_first_claim_owns_then_the_answer_is_replayed(store: PostgresStore) -> None:
    assert await store.claim(scope("a"), "fp", lease=LEASE) == Owned()
    assert await store.claim(scope("a"), "fp", lease=LEASE) == Busy()

    await store.finish(scope("a"), "fp", ANSWER)

    assert await store.claim(scope("a"), "fp", lease=LEASE) == Replay(ANSWER)
    assert await store.claim(scope("a"), "other", lease=LEASE) == Mismatch()
    assert await store.claim(scope("a", "user:8"), "fp", lease=LEASE) == Owned()


async def test_concurrent_claims_make_one_owner(store: PostgresStore) -> None:
    claims = await asyncio.gather(*(store.claim(scope("c"), "fp", lease=LEASE) for _ in range(10)))

    assert claims.count(Owned()) == 1
    assert claims.count(Busy()) == 9


async def test_release_lets_the_retry_run(store: PostgresStore) -> None:
    await store.claim(scope("r"), "fp", lease=LEASE)
    await store.release(scope("r"), "fp")

    assert await store.claim(scope("r"), "fp", lease=LEASE) == Owned()


async def test_an_expired_lease_is_taken_over_by_the_same_request_only(
    store: PostgresStore,
) -> None:
    await store.claim(scope("l"), "fp", lease=timedelta(seconds=-1))

    assert await store.claim(scope("l"), "other", lease=LEASE) == Mismatch()
    assert await store.claim(scope("l"), "fp", lease=LEASE) == Owned()


async def _age(store: PostgresStore, key: str) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(
            sa.update(idempotency_keys)
            .where(idempotency_keys.c.key == key)
            .values(created_at=sa.func.now() - sa.text("interval '49 hours'"))
        )


async def _kept(store: PostgresStore, key: str) -> int:
    async with store.engine.connect() as conn:
        found = await conn.scalar(sa.select(sa.func.count()).where(idempotency_keys.c.key == key))
    return int(found or 0)


class Clock:
    """A monotonic clock as on a machine booted five seconds ago."""

    def __init__(self) -> None:
        self.now = 5.0

    def __call__(self) -> float:
        return self.now


async def test_an_expired_key_is_forgotten(store: PostgresStore) -> None:
    await store.claim(scope("e"), "fp", lease=LEASE)
    await store.finish(scope("e"), "fp", ANSWER)
    await _age(store, "e")

    assert await store.claim(scope("e"), "other", lease=LEASE) == Owned()


async def test_expired_keys_are_swept_at_once_then_every_ten_minutes(database_url: str) -> None:
    clock = Clock()
    store = PostgresStore(create_engine(database_url, pool_size=2), timeout=5.0, clock=clock)
    seed = PostgresStore(create_engine(database_url, pool_size=2), timeout=5.0)
    try:
        await seed.claim(scope("young-1"), "fp", lease=LEASE)
        await _age(seed, "young-1")

        await store.claim(scope("sweep-1"), "fp", lease=LEASE)  # the process's first claim
        assert await _kept(store, "young-1") == 0, "the first claim sweeps, even at uptime 5 s"

        await seed.claim(scope("young-2"), "fp", lease=LEASE)
        await _age(seed, "young-2")
        clock.now += PostgresStore.SWEEP_EVERY - 1
        await store.claim(scope("sweep-2"), "fp", lease=LEASE)
        assert await _kept(store, "young-2") == 1, "not again within ten minutes"

        clock.now += 2
        await store.claim(scope("sweep-3"), "fp", lease=LEASE)
        assert await _kept(store, "young-2") == 0
    finally:
        await store.engine.dispose()
        await seed.engine.dispose()


async def test_an_unreachable_database_is_unavailable_quickly() -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere"
    store = PostgresStore(create_engine(url), timeout=2.0)
    started = time.monotonic()

    with pytest.raises(StoreUnavailable):
        await store.claim(scope("u"), "fp", lease=LEASE)

    assert time.monotonic() - started < 3
    await store.engine.dispose()
