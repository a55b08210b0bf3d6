"""The deals-side consumer of finance money events: figures land in the deal's reserved
fields, a late older event changes nothing, a redelivery applies once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.db import create_engine
from services.common.events import Envelope
from services.deals.money_consumer import apply_money_event
from services.deals.service import DealsService
from services.deals.tables import deals

pytestmark = pytest.mark.integration


def event(deal_id: int, version: int, revenue: str, costs: str) -> Envelope:
    return Envelope(
        uuid.uuid4(),
        "finance.deal.money_changed",
        "finance",
        datetime.now(UTC),
        f"deal/{deal_id}",
        "",
        {
            "deal_id": str(deal_id),
            "currency": "RUB",
            "revenue": revenue,
            "costs": costs,
            "profit": "0.00",
            "profit_percent": "",
            "version": version,
        },
    )


async def test_figures_land_on_the_deal_in_order(database_url: str) -> None:
    engine: AsyncEngine = create_engine(database_url, pool_size=2)
    try:
        svc = DealsService(engine)
        await svc.access.ensure_default_roles()
        user = await svc.org.ensure_admin(email="a@example.com", password="long password 1")
        pipeline = await svc.pipelines.create_pipeline(name="P", stages=[("New", "in_progress")])
        deal = await svc.create_deal(
            actor_id=None,
            pipeline_id=pipeline.id,
            title="D",
            responsible_id=user.id,
            amount="",
            currency="RUB",
            company_name="",
            contact_name="",
            fields={},
            stage_id=None,
        )
        for e in (event(deal.id, 2, "200.00", "50.00"), event(deal.id, 1, "100.00", "0.00")):
            async with engine.begin() as conn:
                await apply_money_event(conn, e)
        got = await svc.get_deal(actor_id=None, deal_id=deal.id)
        assert got.fields["finance.revenue"] == "200.00"
        assert got.fields["finance.costs"] == "50.00"
        assert got.fields["finance.version"] == 2
        assert got.version == deal.version  # a payment does not spoil a user's If-Match
        async with engine.connect() as conn:
            count = await conn.scalar(sa.select(sa.func.count()).select_from(deals))
        assert count == 1
    finally:
        await engine.dispose()
