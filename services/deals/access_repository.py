"""Roles and the rows a user's access is computed from (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.access import Level
from services.deals.domain.roles import PipelineAccess, Role
from services.deals.tables import departments, role_pipeline_access, roles, users


async def load_roles(conn: AsyncConnection, codes: Iterable[str] | None = None) -> list[Role]:
    query = sa.select(roles).order_by(roles.c.code)
    rules_query = sa.select(role_pipeline_access)
    if codes is not None:
        wanted = list(codes)
        query = query.where(roles.c.code.in_(wanted))
        rules_query = rules_query.where(role_pipeline_access.c.role_code.in_(wanted))
    rules: dict[str, dict[int, PipelineAccess]] = {}
    for r in (await conn.execute(rules_query)).all():
        rules.setdefault(r.role_code, {})[r.pipeline_id] = PipelineAccess(
            r.pipeline_id, Level(r.visibility), frozenset(r.move_to_stage_ids)
        )
    return [
        Role(r.code, r.name, Level(r.visibility), frozenset(r.permissions), rules.get(r.code, {}))
        for r in (await conn.execute(query)).all()
    ]


async def any_role(conn: AsyncConnection) -> bool:
    return (await conn.execute(sa.select(roles.c.code).limit(1))).first() is not None


async def existing_codes(conn: AsyncConnection, codes: Iterable[str]) -> set[str]:
    query = sa.select(roles.c.code).where(roles.c.code.in_(list(codes)))
    return set((await conn.execute(query)).scalars())


async def save_role(conn: AsyncConnection, role: Role, now: datetime) -> None:
    """Create or replace a role and its pipeline rules."""
    await conn.execute(sa.delete(roles).where(roles.c.code == role.code))
    await conn.execute(
        roles.insert().values(
            code=role.code,
            name=role.name,
            visibility=role.visibility.value,
            permissions=sorted(role.permissions),
            created_at=now,
        )
    )
    if role.pipelines:
        await conn.execute(
            role_pipeline_access.insert(),
            [
                {
                    "role_code": role.code,
                    "pipeline_id": rule.pipeline_id,
                    "visibility": rule.visibility.value,
                    "move_to_stage_ids": sorted(rule.move_to_stage_ids),
                }
                for rule in role.pipelines.values()
            ],
        )


async def department_parents(conn: AsyncConnection) -> dict[int, int | None]:
    rows = (await conn.execute(sa.select(departments.c.id, departments.c.parent_id))).all()
    return {r.id: r.parent_id for r in rows}


async def user_ids_in(conn: AsyncConnection, department_ids: Iterable[int]) -> set[int]:
    query = sa.select(users.c.id).where(users.c.department_id.in_(list(department_ids)))
    return set((await conn.execute(query)).scalars())
