"""Reading and writing deal folders on a connection the caller owns: the root folder a deal
gets in the transaction that makes it, and which folder of a deal an id names."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import utcnow
from services.common.errors import FieldProblem, ValidationFailed
from services.deals.domain.files import safe_file_name
from services.deals.tables import folders


@dataclass(frozen=True)
class Folder:
    id: int
    deal_id: int
    parent_id: int | None
    name: str
    created_at: datetime
    folders: list[Folder] = field(default_factory=list)  # its sub-folders


def folder_of(row: sa.Row[Any]) -> Folder:
    return Folder(row.id, row.deal_id, row.parent_id, row.name, row.created_at)


async def make_root(conn: AsyncConnection, *, deal_id: int, name: str, actor_id: int | None) -> int:
    """The deal's root folder, made once (a second call returns the first one's id)."""
    made = (
        await conn.execute(
            insert(folders)
            .values(
                deal_id=deal_id,
                parent_id=None,
                name=safe_file_name(name),
                created_by=actor_id,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing()
            .returning(folders.c.id)
        )
    ).scalar_one_or_none()
    return made if made is not None else await root_of(conn, deal_id)


async def root_of(conn: AsyncConnection, deal_id: int) -> int:
    found = (
        await conn.execute(
            sa.select(folders.c.id).where(
                folders.c.deal_id == deal_id, folders.c.parent_id.is_(None)
            )
        )
    ).scalar_one_or_none()
    if found is None:  # a deal older than folders, before the migration made them: make it
        return await make_root(conn, deal_id=deal_id, name=f"Deal {deal_id}", actor_id=None)
    return int(found)


async def folder_in_deal(
    conn: AsyncConnection, *, deal_id: int, folder_id: int | None, field_name: str
) -> int:
    """The id of the deal's folder `folder_id` (its root when None); 422 naming `field_name`
    when the folder is not one of this deal's."""
    if folder_id is None:
        return await root_of(conn, deal_id)
    owner = (
        await conn.execute(sa.select(folders.c.deal_id).where(folders.c.id == folder_id))
    ).scalar_one_or_none()
    if owner != deal_id:
        raise ValidationFailed(FieldProblem(field_name, "is not a folder of this deal"))
    return folder_id
