"""Custom field definitions of contacts and companies: made like a pipeline's (the same
types and checks, no stages), kept in `record_fields`, and the values of a record checked
against them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from process_rules.field_values import merge_values
from services.common.errors import AlreadyExists, FieldProblem, ValidationFailed
from services.deals import org_repository
from services.deals.domain.pipelines import FieldDefinition, FieldType, Pipeline, new_field
from services.deals.tables import record_fields

ENTITIES = ("contact", "company")


def _entity(entity: str) -> str:
    if entity not in ENTITIES:
        raise ValidationFailed(FieldProblem("entity", "must be contact or company"))
    return entity


async def definitions(conn: AsyncConnection, entity: str) -> dict[str, FieldDefinition]:
    query = (
        sa.select(record_fields)
        .where(record_fields.c.entity == _entity(entity))
        .order_by(record_fields.c.id)
    )
    return {r.code: _definition(r) for r in (await conn.execute(query)).all()}


async def create(
    conn: AsyncConnection,
    *,
    entity: str,
    code: str,
    name: str,
    type: str,
    options: list[str],
    list_code: str,
    now: datetime,
) -> FieldDefinition:
    """A new definition, checked as a pipeline's field is (a code is unique per entity)."""
    existing = await definitions(conn, entity)
    holder = Pipeline(id=0, name=entity, stages=(), fields=tuple(existing.values()))
    exists = bool(list_code) and await org_repository.get_list(conn, list_code)
    definition = new_field(
        holder,
        code=code,
        name=name,
        type=type,
        required_on_stages=[],
        options=options,
        list_code=list_code,
        list_exists=bool(exists),
    )
    row = (
        await conn.execute(
            insert(record_fields)
            .values(
                entity=entity,
                code=definition.code,
                name=definition.name,
                type=definition.type.value,
                options=list(definition.options),
                list_code=definition.list_code,
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(record_fields)
        )
    ).first()
    if row is None:
        raise AlreadyExists(f"the {entity} field {code} exists")
    return _definition(row)


async def checked(
    conn: AsyncConnection, entity: str, current: Mapping[str, Any], changes: Mapping[str, Any]
) -> dict[str, Any]:
    """`current` with `changes` (None clears), each checked against its definition."""
    if not changes:
        return dict(current)
    return merge_values(await definitions(conn, entity), current, changes)


def _definition(row: sa.Row[Any]) -> FieldDefinition:
    return FieldDefinition(
        id=row.id,
        pipeline_id=0,
        code=row.code,
        name=row.name,
        type=FieldType(row.type),
        options=tuple(row.options),
        list_code=row.list_code,
    )
