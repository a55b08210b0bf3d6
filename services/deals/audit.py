"""The audit log: an append-only record of sign-ins, admin and permission changes and
decisions. The deals service writes its own entries in the transaction of the change;
other services' decisions arrive as events (see services/deals/audit_consumer.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.deals.tables import audit_log

SOURCE = "deals"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor_id: int | None
    action: str
    subject_type: str
    subject_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    source: str
    client_address: str


@dataclass(frozen=True)
class AuditFilter:
    actor_id: int | None = None
    action: str = ""  # exact, or a prefix ending in "."
    subject_type: str = ""
    subject_id: str = ""
    since: datetime | None = None
    until: datetime | None = None


async def record(
    conn: AsyncConnection,
    *,
    at: datetime,
    actor_id: int | None,
    action: str,
    subject: tuple[str, str | int],
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    source: str = SOURCE,
    client_address: str = "",
    event_id: str | None = None,
) -> None:
    """Append an entry; one carrying an event id already recorded is skipped."""
    await conn.execute(
        insert(audit_log)
        .values(
            at=at,
            actor_id=actor_id,
            action=action,
            subject_type=subject[0],
            subject_id=str(subject[1]),
            before=before,
            after=after,
            source=source,
            client_address=client_address,
            event_id=event_id,
        )
        .on_conflict_do_nothing(index_elements=[audit_log.c.event_id])
    )


async def entries(
    conn: AsyncConnection, where: AuditFilter, *, before_id: int | None, limit: int
) -> list[AuditEntry]:
    """Newest first."""
    query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(audit_log.c.id < before_id)
    if where.actor_id is not None:
        query = query.where(audit_log.c.actor_id == where.actor_id)
    if where.action.endswith("."):
        query = query.where(audit_log.c.action.startswith(where.action, autoescape=True))
    elif where.action:
        query = query.where(audit_log.c.action == where.action)
    if where.subject_type:
        query = query.where(audit_log.c.subject_type == where.subject_type)
    if where.subject_id:
        query = query.where(audit_log.c.subject_id == where.subject_id)
    if where.since is not None:
        query = query.where(audit_log.c.at >= where.since)
    if where.until is not None:
        query = query.where(audit_log.c.at < where.until)
    return [
        AuditEntry(
            r.id,
            r.at,
            r.actor_id,
            r.action,
            r.subject_type,
            r.subject_id,
            r.before,
            r.after,
            r.source,
            r.client_address,
        )
        for r in (await conn.execute(query)).all()
    ]
