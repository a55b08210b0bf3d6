"""Automation rules and their versions in the deals schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.deals.automation_tables import rule_versions
from services.deals.domain.rules import StageRule
from services.deals.tables import stage_rules


def _values(rule: StageRule) -> dict[str, Any]:
    return {
        "pipeline_id": rule.pipeline_id,
        "stage_id": rule.stage_id,
        "definition": rule.definition,
        "version": rule.version,
        "active": rule.active,
    }


def _rule(row: sa.Row[Any]) -> StageRule:
    return StageRule(
        id=row.id,
        pipeline_id=row.pipeline_id,
        definition=dict(row.definition),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def insert_rule(
    conn: AsyncConnection, rule: StageRule, now: datetime, actor_id: int | None
) -> StageRule:
    row = (
        await conn.execute(
            sa.insert(stage_rules)
            .values(**_values(rule), created_at=now, updated_at=now)
            .returning(*stage_rules.c)
        )
    ).one()
    stored = _rule(row)
    await insert_version(conn, stored, now, actor_id)
    return stored


async def insert_version(
    conn: AsyncConnection, rule: StageRule, now: datetime, actor_id: int | None
) -> None:
    await conn.execute(
        sa.insert(rule_versions).values(
            rule_id=rule.id,
            version=rule.version,
            pipeline_id=rule.pipeline_id,
            definition=rule.definition,
            actor_id=actor_id,
            created_at=now,
        )
    )


async def get_rule(
    conn: AsyncConnection, *, pipeline_id: int, rule_id: int, for_update: bool = False
) -> StageRule | None:
    query = sa.select(stage_rules).where(
        stage_rules.c.id == rule_id, stage_rules.c.pipeline_id == pipeline_id
    )
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return None if row is None else _rule(row)


async def rule_by_id(conn: AsyncConnection, rule_id: int) -> StageRule | None:
    row = (await conn.execute(sa.select(stage_rules).where(stage_rules.c.id == rule_id))).first()
    return None if row is None else _rule(row)


async def list_rules(
    conn: AsyncConnection, *, pipeline_id: int, stage_id: int | None, active_only: bool
) -> list[StageRule]:
    """The pipeline's rules in the order they were created (the order they fire in)."""
    query = (
        sa.select(stage_rules)
        .where(stage_rules.c.pipeline_id == pipeline_id)
        .order_by(stage_rules.c.id)
    )
    if stage_id is not None:
        query = query.where(stage_rules.c.stage_id == stage_id)
    if active_only:
        query = query.where(stage_rules.c.active)
    return [_rule(row) for row in (await conn.execute(query)).all()]


async def save_rule(conn: AsyncConnection, rule: StageRule, now: datetime) -> None:
    await conn.execute(
        sa.update(stage_rules)
        .where(stage_rules.c.id == rule.id)
        .values(**_values(rule), updated_at=now)
    )


async def delete_rule(conn: AsyncConnection, rule_id: int) -> None:
    await conn.execute(sa.delete(stage_rules).where(stage_rules.c.id == rule_id))


async def versions(conn: AsyncConnection, rule_id: int) -> list[sa.Row[Any]]:
    """Every version of the rule, newest first."""
    query = (
        sa.select(rule_versions)
        .where(rule_versions.c.rule_id == rule_id)
        .order_by(rule_versions.c.version.desc())
    )
    return list((await conn.execute(query)).all())


async def version_of(conn: AsyncConnection, rule_id: int, version: int) -> StageRule | None:
    """The rule as it was at `version` (what a run that fired on it runs)."""
    return (await versions_of(conn, [(rule_id, version)])).get((rule_id, version))


async def versions_of(
    conn: AsyncConnection, asked: list[tuple[int, int]]
) -> dict[tuple[int, int], StageRule]:
    """Each (rule id, version) asked that exists, in one query."""
    if not asked:
        return {}
    key = sa.tuple_(rule_versions.c.rule_id, rule_versions.c.version)
    rows = (await conn.execute(sa.select(rule_versions).where(key.in_(asked)))).all()
    return {
        (row.rule_id, row.version): StageRule(
            id=row.rule_id,
            pipeline_id=row.pipeline_id,
            definition=dict(row.definition),
            version=row.version,
            created_at=row.created_at,
        )
        for row in rows
    }
