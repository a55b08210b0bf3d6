"""Recording a notification: into the feed (unless the user turned in-app off for its kind),
a delivery per e-mail and webhook the user chose, and a `notifications.notification.created`
event, all on the caller's transaction, so nothing is told twice or lost."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import PendingEvent, write_events
from services.notifications import repository as repo
from services.notifications.domain.channels import EMAIL, IN_APP, WEBHOOK, channels_for
from services.notifications.domain.feed import NewNotification
from services.notifications.repository import Notification
from services.notifications.tables import deliveries, outbox, preferences, webhooks

NOTIFICATION_CREATED = "notifications.notification.created"


_PREFERENCES = sa.select(preferences.c.kind, preferences.c.channels).where(
    preferences.c.user_id == sa.bindparam("b_user", type_=preferences.c.user_id.type)
)


async def chosen_channels(conn: AsyncConnection, user_id: int, kind: str) -> tuple[str, ...]:
    rows = await conn.execute(_PREFERENCES, {"b_user": user_id})
    return channels_for(kind, {r.kind: tuple(r.channels) for r in rows})


async def notify(
    conn: AsyncConnection, new: NewNotification, *, now: datetime
) -> Notification | None:
    """The recorded notification, or None when its key or (user, event) is already there."""
    channels = await chosen_channels(conn, new.user_id, new.kind)
    made = await repo.insert_notification(conn, new, now=now, in_app=IN_APP in channels)
    if made is None:
        return None
    planned = []
    if EMAIL in channels:
        planned.append({"channel": EMAIL, "webhook_id": None})
    if WEBHOOK in channels:
        hooks = await conn.execute(
            sa.select(webhooks.c.id).where(
                webhooks.c.user_id == new.user_id, webhooks.c.active.is_(True)
            )
        )
        planned += [{"channel": WEBHOOK, "webhook_id": h} for h in hooks.scalars()]
    if planned:
        await conn.execute(
            deliveries.insert(),
            [
                {
                    **p,
                    "notification_id": made.id,
                    "user_id": made.user_id,
                    "status": "pending",
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for p in planned
            ],
        )
    event = PendingEvent(
        type=NOTIFICATION_CREATED,
        subject=f"notification/{made.id}",
        data={"notification": made.summary(), "channels": list(channels)},
    )
    await write_events(conn, outbox, [event])
    return made
