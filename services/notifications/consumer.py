"""The deal events the notifications service listens to, and what it does with them."""

from __future__ import annotations

from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common.db import utcnow
from services.common.events import Envelope
from services.common.nats import Consumer
from services.notifications.chat_service import open_chat
from services.notifications.domain.chat import DealFacts
from services.notifications.domain.feed import DEAL_CREATED, notification_for_deal_event
from services.notifications.notify import notify
from services.notifications.tables import inbox

DURABLE = "notifications-deals"
STREAM = "DEALS"
FILTER = "deals.deal.>"


async def apply_deal_event(conn: AsyncConnection, event: Envelope) -> None:
    """Record the notification a deal event gives (at most one per user and event); a new
    deal's chat is opened."""
    if event.type == DEAL_CREATED:
        await open_chat(conn, DealFacts.of_event(event.data, event.actor))
    new = notification_for_deal_event(event)
    if new is not None:
        await notify(conn, new, now=utcnow())


def deal_events_consumer(
    js: JetStreamContext, engine: AsyncEngine, *, durable: str = DURABLE
) -> Consumer:
    """The durable consumer that turns deal events into notifications, each event once."""
    return Consumer(
        js=js,
        engine=engine,
        inbox=inbox,
        stream=STREAM,
        durable=durable,
        filter_subject=FILTER,
        handler=apply_deal_event,
    )
