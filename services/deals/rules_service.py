"""Use cases of automation rules: admins create, change (each change a new version) and
delete them (audited); the worker's triggers read the active ones of a pipeline."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common.db import UnitOfWork, utcnow
from services.common.errors import NotFound
from services.deals import repository, rules_repository
from services.deals.audit import record
from services.deals.domain.pipelines import Pipeline
from services.deals.domain.rules import StageRule, change_definition, new_definition
from services.deals.pipeline_cache import PipelineCache
from services.deals.pipeline_service import pipeline_of
from services.deals.tables import outbox


async def all_pipelines(conn: AsyncConnection) -> dict[int, Pipeline]:
    return {p.id: p for p in await repository.load_pipelines(conn)}


class RulesService:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Callable[[], datetime] = utcnow,
        cache: PipelineCache | None = None,
    ) -> None:
        """`cache`: this process's pipelines, whose rules versions a rule write changes."""
        self._engine = engine
        self._now = clock
        self._cache = cache

    @contextlib.asynccontextmanager
    async def _uow(self) -> AsyncIterator[UnitOfWork]:
        """A unit of work writing rules: the table's trigger bumps the pipeline's rules
        version and tells every replica's pipeline cache (migration 0015); this process's
        forgets as soon as it is over, so its next event carries the new version."""
        try:
            async with UnitOfWork(self._engine, outbox) as uow:
                yield uow
        finally:
            if self._cache is not None:
                self._cache.clear()

    async def create_rule(
        self, *, pipeline_id: int, definition: Mapping[str, Any], actor_id: int | None = None
    ) -> StageRule:
        """A rule of the pipeline, at version 1."""
        async with self._uow() as uow:
            pipeline = await pipeline_of(uow.conn, pipeline_id)
            clean = new_definition(pipeline, definition, await all_pipelines(uow.conn))
            rule = StageRule(id=0, pipeline_id=pipeline_id, definition=clean)
            stored = await rules_repository.insert_rule(uow.conn, rule, self._now(), actor_id)
            await self._audit(uow, actor_id, "rules.create", stored, None, stored.audit_view())
            return stored

    async def get_rule(self, *, pipeline_id: int, rule_id: int) -> StageRule:
        async with self._engine.connect() as conn:
            return await _rule_of(conn, pipeline_id, rule_id)

    async def list_rules(
        self, *, pipeline_id: int, stage_id: int | None = None, active_only: bool = False
    ) -> list[StageRule]:
        """The pipeline's rules (of one stage, the active ones only), oldest first."""
        async with self._engine.connect() as conn:
            rules = await rules_repository.list_rules(
                conn, pipeline_id=pipeline_id, stage_id=stage_id, active_only=active_only
            )
            # A rule's pipeline exists (a foreign key): only an empty answer needs the look.
            if not rules and not await repository.pipeline_exists(conn, pipeline_id):
                raise NotFound(f"pipeline {pipeline_id} not found")
            return rules

    async def update_rule(
        self,
        *,
        pipeline_id: int,
        rule_id: int,
        changes: Mapping[str, Any],
        actor_id: int | None = None,
    ) -> StageRule:
        """Replace some keys of a rule's shape; a change is a new version."""
        async with self._uow() as uow:
            rule = await _rule_of(uow.conn, pipeline_id, rule_id, for_update=True)
            pipeline = await pipeline_of(uow.conn, pipeline_id)
            changed = change_definition(pipeline, rule, changes, await all_pipelines(uow.conn))
            if changed != rule:
                now = self._now()
                await rules_repository.save_rule(uow.conn, changed, now)
                await rules_repository.insert_version(uow.conn, changed, now, actor_id)
                await self._audit(
                    uow, actor_id, "rules.update", changed, rule.audit_view(), changed.audit_view()
                )
            return changed

    async def delete_rule(
        self, *, pipeline_id: int, rule_id: int, actor_id: int | None = None
    ) -> StageRule:
        """Remove a rule (its versions stay for the run log); the deleted rule is answered."""
        async with self._uow() as uow:
            rule = await _rule_of(uow.conn, pipeline_id, rule_id, for_update=True)
            await rules_repository.delete_rule(uow.conn, rule_id)
            await self._audit(uow, actor_id, "rules.delete", rule, rule.audit_view(), None)
            return rule

    async def versions(self, *, pipeline_id: int, rule_id: int) -> list[sa.Row[Any]]:
        """Every version of a rule of the pipeline, newest first (also of a deleted rule)."""
        async with self._engine.connect() as conn:
            rows = await rules_repository.versions(conn, rule_id)
        if not rows or rows[0].pipeline_id != pipeline_id:
            raise NotFound(f"rule {rule_id} of pipeline {pipeline_id} not found")
        return rows

    async def _audit(
        self,
        uow: UnitOfWork,
        actor_id: int | None,
        action: str,
        rule: StageRule,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        await record(
            uow.conn,
            at=self._now(),
            actor_id=actor_id,
            action=action,
            subject=("stage_rule", rule.id),
            before=before,
            after=after,
        )


async def _rule_of(
    conn: AsyncConnection, pipeline_id: int, rule_id: int, *, for_update: bool = False
) -> StageRule:
    rule = await rules_repository.get_rule(
        conn, pipeline_id=pipeline_id, rule_id=rule_id, for_update=for_update
    )
    if rule is None:
        raise NotFound(f"rule {rule_id} of pipeline {pipeline_id} not found")
    return rule
