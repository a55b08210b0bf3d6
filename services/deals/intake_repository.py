"""The exclusion list, received mail and the intake settings (SQLAlchemy Core)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.deals.domain.exclusions import Exclusion
from services.deals.tables import exclusions, intake_messages, intake_settings


# ---- exclusions ----
async def add_exclusion(
    conn: AsyncConnection,
    *,
    kind: str,
    value: str,
    reason: str,
    lead_id: int | None,
    actor_id: int | None,
    at: datetime,
) -> tuple[Exclusion, bool]:
    """The exclusion of (kind, value), and whether it is new (a repeat keeps the first)."""
    row = (
        await conn.execute(
            insert(exclusions)
            .values(
                kind=kind,
                value=value,
                reason=reason,
                lead_id=lead_id,
                actor_id=actor_id,
                created_at=at,
            )
            .on_conflict_do_nothing()
            .returning(exclusions)
        )
    ).first()
    if row is not None:
        return _exclusion(row), True
    query = sa.select(exclusions).where(exclusions.c.kind == kind, exclusions.c.value == value)
    return _exclusion((await conn.execute(query)).one()), False


async def matching(conn: AsyncConnection, keys: list[tuple[str, str]]) -> Exclusion | None:
    """The first exclusion matching any (kind, value)."""
    if not keys:
        return None
    query = (
        sa.select(exclusions)
        .where(sa.tuple_(exclusions.c.kind, exclusions.c.value).in_(keys))
        .order_by(exclusions.c.id)
        .limit(1)
    )
    row = (await conn.execute(query)).first()
    return _exclusion(row) if row else None


async def list_exclusions(
    conn: AsyncConnection, *, kind: str, q: str, before_id: int | None, limit: int
) -> list[Exclusion]:
    query = sa.select(exclusions).order_by(exclusions.c.id.desc()).limit(limit)
    if kind:
        query = query.where(exclusions.c.kind == kind)
    if q.strip():
        query = query.where(sa.func.strpos(exclusions.c.value, q.strip().lower()) > 0)
    if before_id is not None:
        query = query.where(exclusions.c.id < before_id)
    return [_exclusion(r) for r in (await conn.execute(query)).all()]


async def delete_exclusion(conn: AsyncConnection, exclusion_id: int) -> Exclusion | None:
    query = exclusions.delete().where(exclusions.c.id == exclusion_id).returning(exclusions)
    row = (await conn.execute(query)).first()
    return _exclusion(row) if row else None


def _exclusion(row: sa.Row[Any]) -> Exclusion:
    return Exclusion(
        row.id, row.kind, row.value, row.reason, row.lead_id, row.actor_id, row.created_at
    )


# ---- received mail ----
@dataclass(frozen=True)
class IntakeRecord:
    id: int
    message_id: str
    sender: str
    subject: str
    size: int
    outcome: str
    reason: str
    lead_id: int | None
    deal_id: int | None
    contact_id: int | None
    file_ids: tuple[int, ...]
    received_at: datetime
    duplicate: bool = False


async def claim_message(conn: AsyncConnection, values: dict[str, Any]) -> IntakeRecord | None:
    """Record a message; None when its Message-ID was recorded before (by anyone: the
    unique key settles two deliveries at once)."""
    row = (
        await conn.execute(
            insert(intake_messages)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(intake_messages)
        )
    ).first()
    return _record(row) if row else None


async def save_outcome(
    conn: AsyncConnection, record_id: int, values: dict[str, Any]
) -> IntakeRecord:
    query = (
        intake_messages.update()
        .where(intake_messages.c.id == record_id)
        .values(**values)
        .returning(intake_messages)
    )
    return _record((await conn.execute(query)).one())


async def message_by_id(conn: AsyncConnection, message_id: str) -> IntakeRecord | None:
    query = sa.select(intake_messages).where(intake_messages.c.message_id == message_id)
    row = (await conn.execute(query)).first()
    return _record(row) if row else None


async def thread_of(conn: AsyncConnection, message_ids: list[str]) -> IntakeRecord | None:
    """The nearest earlier message of a thread that reached a lead or a deal."""
    if not message_ids:
        return None
    query = sa.select(intake_messages).where(
        intake_messages.c.message_id.in_(message_ids),
        sa.or_(intake_messages.c.lead_id.is_not(None), intake_messages.c.deal_id.is_not(None)),
    )
    rows = {r.message_id: _record(r) for r in (await conn.execute(query)).all()}
    return next((rows[m] for m in message_ids if m in rows), None)


async def list_messages(
    conn: AsyncConnection, *, before_id: int | None, limit: int
) -> list[IntakeRecord]:
    query = sa.select(intake_messages).order_by(intake_messages.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(intake_messages.c.id < before_id)
    return [_record(r) for r in (await conn.execute(query)).all()]


def _record(row: sa.Row[Any]) -> IntakeRecord:
    return IntakeRecord(
        id=row.id,
        message_id=row.message_id,
        sender=row.sender,
        subject=row.subject,
        size=row.size,
        outcome=row.outcome,
        reason=row.reason,
        lead_id=row.lead_id,
        deal_id=row.deal_id,
        contact_id=row.contact_id,
        file_ids=tuple(row.file_ids),
        received_at=row.received_at,
    )


# ---- settings ----
async def get_settings(conn: AsyncConnection) -> tuple[int | None, int | None]:
    """(pipeline_id, responsible_id), each None when not set."""
    row = (await conn.execute(sa.select(intake_settings).where(intake_settings.c.id == 1))).first()
    return (row.pipeline_id, row.responsible_id) if row else (None, None)


async def put_settings(
    conn: AsyncConnection, *, pipeline_id: int | None, responsible_id: int | None, at: datetime
) -> None:
    values = {"pipeline_id": pipeline_id, "responsible_id": responsible_id, "updated_at": at}
    await conn.execute(
        insert(intake_settings)
        .values(id=1, **values)
        .on_conflict_do_update(index_elements=[intake_settings.c.id], set_=values)
    )
