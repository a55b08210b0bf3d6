"""Pipelines (stages, fields) kept in memory between calls: every move, change and creation
of a deal reads its pipeline, which changes only when an administrator changes it.

A pipeline is cached only while this process LISTENs on `PIPELINES_CHANGED`: each writer
of pipelines, stages or fields sends that NOTIFY in its transaction (`notify_changed`), so
every replica forgets its copies when such a change commits; this process also forgets at
once after its own writes. While the listener is not connected (not started, or the
connection lost) nothing is cached and every read goes to the database. A write of a
pipeline's automation rules bumps its `rules_version` and sends the same NOTIFY (a trigger,
migration 0015), so the version a cached pipeline carries onto events is its current one."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common.db import psycopg_conninfo
from services.common.listen import listen_until
from services.deals import repository
from services.deals.domain.pipelines import Pipeline, require_pipeline

PIPELINES_CHANGED = "deals_pipelines"


async def notify_changed(conn: AsyncConnection) -> None:
    """Tell every deals process, when this transaction commits, that pipelines changed."""
    await conn.execute(sa.text(f"NOTIFY {PIPELINES_CHANGED}"))


class PipelineCache:
    def __init__(self) -> None:
        self._by_id: dict[int, Pipeline] = {}
        self._generation = 0  # bumped by every invalidation; a load begun before is not kept
        self.listening = False

    async def get(
        self, conn: AsyncConnection, pipeline_id: int, *, with_stages: tuple[int, ...] = ()
    ) -> Pipeline:
        """The pipeline (NotFound when there is none). A cached copy lacking one of
        `with_stages` is read again: the stage may have been added a moment ago on another
        replica, whose NOTIFY is still on its way."""
        cached = self._by_id.get(pipeline_id) if self.listening else None
        if cached is not None and set(with_stages) <= {s.id for s in cached.stages}:
            return cached
        generation = self._generation
        loaded = require_pipeline(await repository.get_pipeline(conn, pipeline_id), pipeline_id)
        if self.listening and generation == self._generation:
            self._by_id[pipeline_id] = loaded
        return loaded

    def clear(self) -> None:
        self._generation += 1
        self._by_id.clear()

    def _connected(self) -> None:
        self.clear()  # whatever was notified while not listening has been missed
        self.listening = True

    def _lost(self) -> None:
        self.listening = False
        self.clear()

    async def listen(self, engine: AsyncEngine, stop: asyncio.Event) -> None:
        """Keep the cache coherent with other replicas' writes until `stop` is set."""
        try:
            await listen_until(
                stop,
                conninfo=psycopg_conninfo(engine),
                channel=PIPELINES_CHANGED,
                on_ready=self._connected,
                on_notify=self.clear,
                on_lost=self._lost,
            )
        finally:
            self._lost()
