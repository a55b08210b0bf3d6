"""Use cases of stage rules: admins create, change and delete them (audited); the worker's
triggers read the active ones of a stage."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common.db import UnitOfWork, utcnow
from services.common.errors import NotFound
from services.deals import repository, rules_repository
from services.deals.audit import record
from services.deals.domain.rules import StageRule, change_rule, new_rule
from services.deals.pipeline_service import pipeline_of
from services.deals.tables import outbox


class RulesService:
    def __init__(self, engine: AsyncEngine, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._engine = engine
        self._now = clock

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, outbox)

    async def create_rule(
        self,
        *,
        pipeline_id: int,
        stage_id: int,
        event: str,
        action: str,
        process: str,
        params: Mapping[str, Any],
        active: bool = True,
        actor_id: int | None = None,
    ) -> StageRule:
        """A rule on a stage of the pipeline."""
        async with self._uow() as uow:
            pipeline = await pipeline_of(uow.conn, pipeline_id)
            rule = new_rule(
                pipeline,
                stage_id=stage_id,
                event=event,
                action=action,
                process=process,
                params=params,
                active=active,
            )
            stored = await rules_repository.insert_rule(uow.conn, rule, self._now())
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
            if not await repository.pipeline_exists(conn, pipeline_id):
                raise NotFound(f"pipeline {pipeline_id} not found")
            return await rules_repository.list_rules(
                conn, pipeline_id=pipeline_id, stage_id=stage_id, active_only=active_only
            )

    async def update_rule(
        self,
        *,
        pipeline_id: int,
        rule_id: int,
        changes: Mapping[str, Any],
        actor_id: int | None = None,
    ) -> StageRule:
        """Change some of a rule's stage, event, action, process, params and active flag."""
        async with self._uow() as uow:
            rule = await _rule_of(uow.conn, pipeline_id, rule_id, for_update=True)
            pipeline = await pipeline_of(uow.conn, pipeline_id)
            changed = change_rule(pipeline, rule, changes)
            if changed != rule:
                await rules_repository.save_rule(uow.conn, changed)
                await self._audit(
                    uow, actor_id, "rules.update", changed, rule.audit_view(), changed.audit_view()
                )
            return changed

    async def delete_rule(
        self, *, pipeline_id: int, rule_id: int, actor_id: int | None = None
    ) -> StageRule:
        """Remove a rule; the deleted rule is answered."""
        async with self._uow() as uow:
            rule = await _rule_of(uow.conn, pipeline_id, rule_id, for_update=True)
            await rules_repository.delete_rule(uow.conn, rule_id)
            await self._audit(uow, actor_id, "rules.delete", rule, rule.audit_view(), None)
            return rule

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
