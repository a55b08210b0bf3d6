"""Recording a notification: into the feed (unless the user turned in-app off for its kind),
a delivery per e-mail and webhook the user chose, and a `notifications.notification.created`
event, all on the caller's transaction, so nothing is told twice or lost.

All of it is one statement (`_NOTIFY`, built once), as a stage move's writes are
(services/deals/move_writes.py): the channels chosen (`channels_for` in SQL: the kind's own
preference, else the one for any kind, else in-app only), the notification (nothing more
when its key or (user, event) is already there), its deliveries, the outbox event and the
relay's NOTIFY are CTEs of one `SELECT`. Four statements per notification before (the
preferences read, the insert, the deliveries' and the event's); each cost ≈ 0.1 ms of the
service's CPU per move under B1 (tests/bench/README.md). The CTEs see one snapshot, so each
reads what it needs from `made`'s and `chosen`'s rows, never from the tables they write."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import notify_channel, utcnow
from services.notifications import repository as repo
from services.notifications.domain.channels import ANY_KIND, DEFAULT, EMAIL, IN_APP, WEBHOOK
from services.notifications.domain.feed import NewNotification
from services.notifications.repository import Notification
from services.notifications.tables import (
    SCHEMA,
    deliveries,
    notifications,
    outbox,
    preferences,
    webhooks,
)

NOTIFICATION_CREATED = "notifications.notification.created"

_NEW_COLUMNS = ("user_id", "kind", "title", "body", "deal_id", "event_id", "idempotency_key")
_NEW = {c: sa.bindparam(f"n_{c}", type_=notifications.c[c].type) for c in _NEW_COLUMNS}
_NOW = sa.bindparam("n_created_at", type_=notifications.c.created_at.type)
_TEXT_ARRAY = pg.ARRAY(sa.Text)


def _preference(kind: Any) -> sa.ScalarSelect[Any]:
    return (
        sa.select(preferences.c.channels)
        .where(preferences.c.user_id == _NEW["user_id"], preferences.c.kind == kind)
        .scalar_subquery()
    )


def _has(channel: str, channels: Any) -> sa.ColumnElement[bool]:
    return sa.literal(channel, sa.Text) == sa.any_(channels)


_CHOSEN = sa.select(
    sa.func.coalesce(
        _preference(_NEW["kind"]),
        _preference(sa.literal(ANY_KIND, sa.Text)),
        sa.cast(sa.literal(list(DEFAULT), _TEXT_ARRAY), _TEXT_ARRAY),
    ).label("channels")
).cte("chosen")
_MADE = (
    insert(notifications)
    .from_select(
        [*_NEW_COLUMNS, "created_at", "in_app"],
        sa.select(*_NEW.values(), _NOW, _has(IN_APP, _CHOSEN.c.channels)).select_from(_CHOSEN),
    )
    .on_conflict_do_nothing()
    .returning(*notifications.c)
    .cte("made")
)
_MADE_AND_CHOSEN = _MADE.join(_CHOSEN, sa.true())


def _planned(channel: str, webhook_id: Any) -> sa.Select[Any]:
    return sa.select(
        _MADE.c.id,
        _MADE.c.user_id,
        sa.literal(channel, sa.Text),
        webhook_id,
        sa.literal("pending", sa.Text),
        _NOW,
        _NOW,
    ).where(_has(channel, _CHOSEN.c.channels))


_PLANNED = (
    deliveries.insert()
    .from_select(
        ["notification_id", "user_id", "channel", "webhook_id", "status"]
        + ["next_attempt_at", "created_at"],
        sa.union_all(
            _planned(EMAIL, sa.cast(sa.null(), sa.BigInteger)).select_from(_MADE_AND_CHOSEN),
            _planned(WEBHOOK, webhooks.c.id).select_from(
                _MADE_AND_CHOSEN.join(
                    webhooks,
                    sa.and_(webhooks.c.user_id == _MADE.c.user_id, webhooks.c.active.is_(True)),
                )
            ),
        ),
    )
    .cte("planned")
)


def _text(value: Any) -> sa.ColumnElement[str]:
    return sa.cast(value, sa.Text)


_SUMMARY = sa.func.jsonb_build_object(  # `Notification.summary()`
    *("id", _text(_MADE.c.id), "user_id", _text(_MADE.c.user_id), "kind", _MADE.c.kind),
    *("title", _MADE.c.title, "body", _MADE.c.body),
    *("deal_id", sa.func.coalesce(_text(_MADE.c.deal_id), "")),
    *("created_at", sa.bindparam("e_created_iso", type_=sa.Text)),
)
_WRITTEN = (
    outbox.insert()
    .from_select(
        ["id", "type", "subject", "actor", "data", "created_at"],
        sa.select(
            sa.bindparam("e_id", type_=outbox.c.id.type),
            sa.literal(NOTIFICATION_CREATED, sa.Text),
            sa.literal("notification/", sa.Text) + _text(_MADE.c.id),
            sa.literal("", sa.Text),
            sa.func.jsonb_build_object(
                "notification", _SUMMARY, "channels", sa.func.to_jsonb(_CHOSEN.c.channels)
            ),
            sa.bindparam("e_created_at", type_=outbox.c.created_at.type),
        ).select_from(_MADE_AND_CHOSEN),
    )
    .cte("written")
)
_NOTIFY: sa.Select[Any] = (
    sa.select(*_MADE.c, sa.func.pg_notify(notify_channel(SCHEMA), ""))
    .select_from(_MADE_AND_CHOSEN)
    .add_cte(_PLANNED, _WRITTEN)
)


async def notify(
    conn: AsyncConnection, new: NewNotification, *, now: datetime
) -> Notification | None:
    """The recorded notification, or None when its key or (user, event) is already there."""
    params: dict[str, Any] = {f"n_{c}": getattr(new, c) for c in _NEW_COLUMNS}
    params |= {"n_created_at": now, "e_created_iso": now.isoformat()}
    params |= {"e_id": uuid.uuid4(), "e_created_at": utcnow()}
    row = (await conn.execute(_NOTIFY, params)).first()
    return repo.notification_of(row) if row is not None else None
