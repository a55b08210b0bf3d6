"""Keeps a deal's money figures current from finance events (SM-8, SN-4).

The figures live in the deal's custom `fields` under reserved codes with a dot
(`finance.revenue`, `finance.costs`, `finance.profit`, `finance.profit_percent`,
`finance.currency`, `finance.version`): a pipeline's own field codes cannot contain a dot,
so these never clash with one and users cannot write them, and the deal needs no new
column, proto field or migration to show them. The update is one jsonb merge, so it
composes with a concurrent edit of the deal (which holds the row lock) and does not bump
the deal's version (a user's If-Match is not spoiled by a payment). `finance.version`
orders the updates: an older event delivered late changes nothing.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from nats.js import JetStreamContext
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common.events import Envelope
from services.common.nats import Consumer
from services.deals.tables import deals, inbox

DURABLE = "deals-finance-money"
STREAM = "FINANCE"
FILTER = "finance.deal.money_changed"
PREFIX = "finance."
FIGURES = ("currency", "revenue", "costs", "profit", "profit_percent")


def money_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The reserved deal fields for the figures in a `finance.deal.money_changed` event."""
    values: dict[str, Any] = {PREFIX + name: str(data.get(name, "")) for name in FIGURES}
    values[PREFIX + "version"] = int(data["version"])
    return values


async def apply_money_event(conn: AsyncConnection, event: Envelope) -> None:
    """Merge the figures into the deal's fields unless newer ones are there already."""
    deal_id = int(event.data["deal_id"])
    values = money_fields(event.data)
    stored = deals.c.fields[PREFIX + "version"].as_integer()
    await conn.execute(
        deals.update()
        .where(deals.c.id == deal_id)
        .where(sa.or_(stored.is_(None), stored < values[PREFIX + "version"]))
        .values(fields=deals.c.fields.op("||")(sa.cast(values, pg.JSONB)))
    )


def money_consumer(
    js: JetStreamContext, engine: AsyncEngine, *, durable: str = DURABLE
) -> Consumer:
    """The durable consumer that applies each finance money event once."""
    return Consumer(
        js=js,
        engine=engine,
        inbox=inbox,
        stream=STREAM,
        durable=durable,
        filter_subject=FILTER,
        handler=apply_money_event,
    )
