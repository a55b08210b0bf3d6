"""Decisions taken in other services (approvals) land in the audit log, once each, from
their events; the audit log stays the one place an admin reads who decided what."""

from __future__ import annotations

from typing import Any

from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common.events import Envelope
from services.common.nats import Consumer
from services.deals.audit import record
from services.deals.tables import inbox

DURABLE = "deals-audit-decisions"
STREAM = "APPROVALS"
FILTER = "approvals.decision.>"


async def record_decision(conn: AsyncConnection, event: Envelope) -> None:
    """One audit entry per decision event (a redelivered event adds nothing)."""
    data: dict[str, Any] = event.data
    actor = event.actor
    await record(
        conn,
        at=event.time,
        actor_id=int(actor) if actor.isdigit() else None,
        action=event.type,
        subject=("approval_request", str(data.get("request_id") or event.subject)),
        before=_mapping(data.get("before")),
        after=_mapping(data.get("after")) or data,
        source=event.source,
        event_id=str(event.id),
    )


def _mapping(value: object) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def decisions_consumer(
    js: JetStreamContext, engine: AsyncEngine, *, durable: str = DURABLE
) -> Consumer:
    return Consumer(
        js=js,
        engine=engine,
        inbox=inbox,
        stream=STREAM,
        durable=durable,
        filter_subject=FILTER,
        handler=record_decision,
    )
