"""Use cases of pipelines: stages and custom fields, changed by admins and audited."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common.db import UnitOfWork, utcnow
from services.common.errors import NotFound
from services.deals import org_repository, repository
from services.deals.audit import record
from services.deals.domain.pipelines import (
    FieldDefinition,
    Pipeline,
    insert_position,
    new_field,
    new_pipeline,
    pipeline_kind,
    require_pipeline,
    stage_draft,
)
from services.deals.pipeline_cache import PipelineCache, notify_changed
from services.deals.tables import outbox


class PipelineService:
    def __init__(self, engine: AsyncEngine, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._engine = engine
        self._now = clock
        self.cache = PipelineCache()

    @contextlib.asynccontextmanager
    async def _change(self) -> AsyncIterator[UnitOfWork]:
        """A unit of work changing pipelines: it tells every replica's cache, and this
        process's forgets as soon as it is over."""
        try:
            async with UnitOfWork(self._engine, outbox) as uow:
                yield uow
                await notify_changed(uow.conn)
        finally:
            self.cache.clear()

    async def create_pipeline(
        self,
        *,
        name: str,
        stages: list[tuple[str, str]],
        actor_id: int | None = None,
        kind: str = "",
    ) -> Pipeline:
        """A pipeline (of deals, or a lead funnel) with its ordered stages."""
        chosen = pipeline_kind(kind)
        clean_name, drafts = new_pipeline(name, stages, chosen)
        async with self._change() as uow:
            pipeline_id = await repository.insert_pipeline(
                uow.conn, name=clean_name, drafts=drafts, now=self._now(), kind=chosen
            )
            after = {"name": clean_name, "kind": chosen.value, "stages": [d.name for d in drafts]}
            await self._audit(uow, actor_id, "pipelines.create", ("pipeline", pipeline_id), after)
            return await pipeline_of(uow.conn, pipeline_id)

    async def _audit(
        self,
        uow: UnitOfWork,
        actor_id: int | None,
        action: str,
        subject: tuple[str, int],
        after: dict[str, Any],
    ) -> None:
        await record(
            uow.conn, at=self._now(), actor_id=actor_id, action=action, subject=subject, after=after
        )

    async def get_pipeline(self, *, pipeline_id: int) -> Pipeline:
        """One pipeline with its stages and fields."""
        async with self._engine.connect() as conn:
            return await pipeline_of(conn, pipeline_id)

    async def list_pipelines(self) -> list[Pipeline]:
        """Every pipeline, oldest first."""
        async with self._engine.connect() as conn:
            return await repository.load_pipelines(conn)

    async def add_stage(
        self,
        *,
        pipeline_id: int,
        name: str,
        semantic: str,
        position: int | None,
        actor_id: int | None = None,
    ) -> Pipeline:
        """Append a stage, or insert it at a 0-based position."""
        async with self._change() as uow:
            if not await repository.lock_pipeline(uow.conn, pipeline_id):
                raise NotFound(f"pipeline {pipeline_id} not found")
            pipeline = await pipeline_of(uow.conn, pipeline_id)
            draft = stage_draft(name, semantic, prefix="stage", kind=pipeline.kind)
            at = insert_position(pipeline, draft, position)
            await repository.insert_stage(
                uow.conn, pipeline_id=pipeline_id, draft=draft, position=at
            )
            after = {"stage": draft.name, "semantic": draft.semantic, "position": at}
            await self._audit(
                uow, actor_id, "pipelines.add_stage", ("pipeline", pipeline_id), after
            )
            return await pipeline_of(uow.conn, pipeline_id)

    async def create_field(
        self,
        *,
        pipeline_id: int,
        code: str,
        name: str,
        type: str,
        required_on_stages: list[int],
        options: list[str],
        list_code: str,
        formula: str = "",
        currency: str = "",
        required_to_leave: list[int] | None = None,
        actor_id: int | None = None,
    ) -> FieldDefinition:
        """A custom field of a pipeline, optionally required on some of its stages."""
        async with self._change() as uow:
            if not await repository.lock_pipeline(uow.conn, pipeline_id):
                raise NotFound(f"pipeline {pipeline_id} not found")
            pipeline = await pipeline_of(uow.conn, pipeline_id)
            exists = bool(list_code) and await org_repository.get_list(uow.conn, list_code)
            definition = new_field(
                pipeline,
                code=code,
                name=name,
                type=type,
                required_on_stages=required_on_stages,
                options=options,
                list_code=list_code,
                list_exists=bool(exists),
                formula=formula,
                currency=currency,
                required_to_leave=required_to_leave,
            )
            stored = await repository.insert_field(uow.conn, definition, self._now())
            after = {"code": stored.code, "type": stored.type, "name": stored.name}
            if stored.formula:
                after["formula"] = stored.formula
            await self._audit(uow, actor_id, "fields.create", ("pipeline", pipeline_id), after)
            return stored


async def pipeline_of(conn: AsyncConnection, pipeline_id: int) -> Pipeline:
    return require_pipeline(await repository.get_pipeline(conn, pipeline_id), pipeline_id)
