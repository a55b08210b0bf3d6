"""Products and line items in the deals service against real PostgreSQL: a deal's lines,
its totals, its amount and their events commit together; a refused put leaves the lines,
the amount and the outbox as they were."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.errors import ValidationFailed
from services.deals.products_service import ProductsService
from services.deals.service import DealsService
from services.deals.tables import outbox

pytestmark = pytest.mark.integration


async def _events(engine: AsyncEngine, subject: str) -> list[tuple[str, dict[str, Any]]]:
    query = sa.select(outbox.c.type, outbox.c.data).where(outbox.c.subject == subject)
    async with engine.connect() as conn:
        return [(r.type, r.data) for r in (await conn.execute(query.order_by(outbox.c.seq)))]


async def test_lines_totals_amount_and_events_commit_together(
    service: DealsService, engine: AsyncEngine
) -> None:
    await service.access.ensure_default_roles()
    products = ProductsService(service)
    pipeline = await service.pipelines.create_pipeline(
        actor_id=None, name=f"P {uuid.uuid4().hex[:6]}", stages=[("New", "in_progress")]
    )
    user = await service.org.create_user(
        actor_id=None, email=f"u-{uuid.uuid4().hex[:6]}@x.test", name="U", password="pw pw pw pw",
        roles=["manager"], department_id=None,
    )  # fmt: skip
    deal = await service.create_deal(
        actor_id=None, pipeline_id=pipeline.id, title="Pens", responsible_id=user.id,
        amount="", currency="RUB", company_name="", contact_name="", fields={}, stage_id=None,
    )  # fmt: skip
    pen = await products.create_product(
        actor_id=None,
        values={"code": f"PEN-{uuid.uuid4().hex[:6]}", "name": "Pen", "type": "pen",
                "price": "12.50", "vat_rate": "20"},
        characteristics={},
    )  # fmt: skip
    subject = f"deal/{deal.id}"
    before = await _events(engine, subject)

    put = await products.put_deal_items(
        actor_id=None, deal_id=deal.id, rows=[{"product_id": str(pen.id), "quantity": "4"}]
    )
    assert (put.totals.net, put.totals.vat, put.totals.total) == (50, 10, 60)
    assert (await service.get_deal(actor_id=None, deal_id=deal.id)).amount == 60
    new = (await _events(engine, subject))[len(before) :]
    assert [t for t, _ in new] == ["deals.deal.updated", "deals.deal.items_changed"]
    assert new[0][1]["after"]["amount"] == "60.00"
    totals = {"currency": "RUB", "net": "50.00", "vat": "10.00", "total": "60.00"}
    assert new[1][1]["totals"] == totals

    seen = await _events(engine, subject)
    with pytest.raises(ValidationFailed) as refused:
        await products.put_deal_items(
            actor_id=None,
            deal_id=deal.id,
            rows=[
                {"product_id": str(pen.id), "quantity": "1"},
                {"product_id": str(pen.id), "quantity": "1", "discount": "13"},
            ],
        )
    assert [p.field for p in refused.value.problems] == ["items[1].discount"]
    kept = await products.deal_items(actor_id=None, deal_id=deal.id)
    assert [(x.quantity, x.total) for x in kept.items] == [(4, 60)]
    assert (await service.get_deal(actor_id=None, deal_id=deal.id)).amount == 60
    assert await _events(engine, subject) == seen, "a refused put emits nothing"

    again = await products.put_deal_items(
        actor_id=None, deal_id=deal.id, rows=[{"product_id": str(pen.id), "quantity": "4"}]
    )
    assert again.totals.total == 60
    assert await _events(engine, subject) == seen, "the same lines again change nothing"
