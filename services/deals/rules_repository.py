"""Stage rules in the deals schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.deals.domain.rules import RuleAction, RuleEvent, StageRule
from services.deals.tables import stage_rules


def _values(rule: StageRule) -> dict[str, Any]:
    return {
        "pipeline_id": rule.pipeline_id,
        "stage_id": rule.stage_id,
        "event": rule.event.value,
        "action": rule.action.value,
        "process": rule.process,
        "params": rule.params,
        "active": rule.active,
    }


def _rule(row: sa.Row[Any]) -> StageRule:
    return StageRule(
        id=row.id,
        pipeline_id=row.pipeline_id,
        stage_id=row.stage_id,
        event=RuleEvent(row.event),
        action=RuleAction(row.action),
        process=row.process,
        params=dict(row.params),
        active=row.active,
        created_at=row.created_at,
    )


async def insert_rule(conn: AsyncConnection, rule: StageRule, now: datetime) -> StageRule:
    row = (
        await conn.execute(
            sa.insert(stage_rules).values(**_values(rule), created_at=now).returning(*stage_rules.c)
        )
    ).one()
    return _rule(row)


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


async def save_rule(conn: AsyncConnection, rule: StageRule) -> None:
    await conn.execute(
        sa.update(stage_rules).where(stage_rules.c.id == rule.id).values(**_values(rule))
    )


async def delete_rule(conn: AsyncConnection, rule_id: int) -> None:
    await conn.execute(sa.delete(stage_rules).where(stage_rules.c.id == rule_id))
