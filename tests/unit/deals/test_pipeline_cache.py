"""The deals service's pipeline cache: what it keeps, and when it forgets."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.deals import repository
from services.deals.domain.pipelines import Pipeline, Semantic, Stage
from services.deals.pipeline_cache import PipelineCache

CONN: Any = object()  # the repository is replaced; the connection is only passed through


def _pipeline(*stage_ids: int) -> Pipeline:
    stages = tuple(Stage(s, f"s{s}", Semantic.IN_PROGRESS, i) for i, s in enumerate(stage_ids))
    return Pipeline(id=1, name="Sales", stages=stages)


class FakeStore:
    """The database's current pipeline, counting reads; `gate` holds a read half-way."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline, self.reads = pipeline, 0
        self.gate: asyncio.Event | None = None

    async def get_pipeline(self, conn: Any, pipeline_id: int) -> Pipeline | None:
        self.reads += 1
        seen = self.pipeline
        if self.gate is not None:
            await self.gate.wait()
        return seen if pipeline_id == seen.id else None


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> FakeStore:
    fake = FakeStore(_pipeline(10, 11))
    monkeypatch.setattr(repository, "get_pipeline", fake.get_pipeline)
    return fake


def listening() -> PipelineCache:
    cache = PipelineCache()
    cache._connected()
    return cache


async def test_a_listening_cache_reads_a_pipeline_once(store: FakeStore) -> None:
    cache = listening()
    assert await cache.get(CONN, 1) == await cache.get(CONN, 1, with_stages=(10, 11))
    assert store.reads == 1


async def test_nothing_is_kept_while_not_listening(store: FakeStore) -> None:
    cache = PipelineCache()
    await cache.get(CONN, 1)
    await cache.get(CONN, 1)
    assert store.reads == 2
    cache._connected()
    await cache.get(CONN, 1)
    cache._lost()  # notifications may be missed from now on
    await cache.get(CONN, 1)
    assert store.reads == 4


async def test_a_notification_or_an_own_write_makes_it_read_again(store: FakeStore) -> None:
    cache = listening()
    await cache.get(CONN, 1)
    store.pipeline = _pipeline(10, 11, 12)
    cache.clear()  # what NOTIFY deals_pipelines and PipelineService's writes call
    assert [s.id for s in (await cache.get(CONN, 1)).stages] == [10, 11, 12]
    assert store.reads == 2


async def test_a_stage_it_does_not_know_is_read_again(store: FakeStore) -> None:
    cache = listening()
    await cache.get(CONN, 1)
    store.pipeline = _pipeline(10, 11, 12)  # added on another replica, NOTIFY still on its way
    got = await cache.get(CONN, 1, with_stages=(12,))
    assert [s.id for s in got.stages] == [10, 11, 12]
    assert (await cache.get(CONN, 1, with_stages=(12,))) is got


async def test_a_read_begun_before_an_invalidation_is_not_kept(store: FakeStore) -> None:
    cache = listening()
    store.gate = asyncio.Event()
    stale_read = asyncio.create_task(cache.get(CONN, 1))
    await asyncio.sleep(0)  # the read has fetched the old pipeline
    store.pipeline = _pipeline(10, 11, 12)
    cache.clear()
    store.gate.set()
    assert [s.id for s in (await stale_read).stages] == [10, 11]
    store.gate = None
    assert [s.id for s in (await cache.get(CONN, 1)).stages] == [10, 11, 12]


async def test_reconnecting_forgets_what_was_kept(store: FakeStore) -> None:
    cache = listening()
    await cache.get(CONN, 1)
    cache._lost()
    cache._connected()
    await cache.get(CONN, 1)
    assert store.reads == 2
