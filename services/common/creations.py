"""Creating RPCs made idempotent: a create retried with the same key by the same actor
returns the record the first call made, even when the caller never saw that answer (the
gateway died after the service committed and before it kept the answer).

Each service keeps a `creations` table in its own schema: (actor, kind, key) -> record id,
written in the same transaction as the record. `first_made` claims the key at the start of
that transaction; a concurrent call with the same key waits on the row and then finds the
record, and a transaction that fails takes its claim with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import utcnow
from services.common.errors import FieldProblem, ValidationFailed

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
SYSTEM_ACTOR = 0  # calls from inside (workflows, consumers) carry no actor


def creations_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "creations",
        metadata,
        sa.Column("actor_id", sa.BigInteger, primary_key=True),
        sa.Column("kind", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("record_id", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def check_key(key: str) -> str:
    """The key as given ("" for none), or 422 naming `idempotency_key`."""
    if key and not _KEY.match(key):
        raise ValidationFailed(
            FieldProblem("idempotency_key", "must be 1 to 255 visible ASCII characters")
        )
    return key


@dataclass(frozen=True)
class Once:
    """One creating call: who asks, what kind of record, under which key ("" for none)."""

    actor_id: int | None
    kind: str
    key: str

    def where(self, table: sa.Table) -> sa.ColumnElement[bool]:
        return sa.and_(
            table.c.actor_id == (self.actor_id or SYSTEM_ACTOR),
            table.c.kind == self.kind,
            table.c.key == self.key,
        )


async def first_made(conn: AsyncConnection, table: sa.Table, once: Once) -> int | None:
    """The id of the record this actor's key already made; None when there is none (or no
    key): the caller creates it and calls `remember` in the same transaction."""
    if not check_key(once.key):
        return None
    claimed = await conn.execute(
        insert(table)
        .values(
            actor_id=once.actor_id or SYSTEM_ACTOR,
            kind=once.kind,
            key=once.key,
            record_id=None,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing()
        .returning(table.c.key)
    )
    if claimed.first() is not None:
        return None
    found = await conn.scalar(sa.select(table.c.record_id).where(once.where(table)))
    return int(found) if found is not None else None


async def remember(conn: AsyncConnection, table: sa.Table, once: Once, record_id: int) -> None:
    """What the claimed key made (same transaction as `first_made` and the record)."""
    if once.key:
        await conn.execute(sa.update(table).where(once.where(table)).values(record_id=record_id))
