"""Links between deals: a deal a rule creates from another (`create_deal`), its fields
copied by a mapping, linked both ways in the same transaction as its creation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import UnitOfWork
from services.deals.automation_plan import deal_values
from services.deals.automation_tables import deal_links
from services.deals.domain.conditions import value_of
from services.deals.domain.deals import Deal

if TYPE_CHECKING:
    from services.deals.service import DealsService


async def create_linked(
    uow: UnitOfWork,
    deals: DealsService,
    *,
    now: datetime,
    idempotency_key: str,
    source: Deal,
    pipeline_id: int,
    stage_id: int | None,
    title: str,
    mapping: Mapping[str, str],
) -> tuple[int, bool]:
    """(the new deal's id, True), or (the deal made earlier with the key, False)."""
    found = await _linked_by_key(uow.conn, idempotency_key)
    if found is not None:
        return found, False
    values = deal_values(source)
    fields = {t: value_of(s, values) for t, s in mapping.items()}
    deal = await deals.create_deal_in(
        uow,
        actor_id=None,
        pipeline_id=pipeline_id,
        title=title or source.title,
        responsible_id=source.responsible_id,
        amount="",
        currency=source.currency,
        company_name=source.company_name,
        contact_name=source.contact_name,
        fields={k: v for k, v in fields.items() if v not in (None, "")},
        stage_id=stage_id,
    )
    row = {"created_at": now}
    await uow.conn.execute(
        deal_links.insert().values(
            [
                {**row, "deal_id": deal.id, "linked_deal_id": source.id,
                 "relation": "created_from", "idempotency_key": idempotency_key},
                {**row, "deal_id": source.id, "linked_deal_id": deal.id,
                 "relation": "created", "idempotency_key": None},
            ]
        )
    )  # fmt: skip
    return deal.id, True


async def links_of(conn: AsyncConnection, deal_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    """Each deal's links (linked deal id, relation), oldest first."""
    if not deal_ids:
        return {}
    rows = await conn.execute(
        sa.select(deal_links)
        .where(deal_links.c.deal_id.in_(deal_ids))
        .order_by(deal_links.c.created_at, deal_links.c.linked_deal_id)
    )
    links: dict[int, list[tuple[int, str]]] = {}
    for row in rows:
        links.setdefault(row.deal_id, []).append((row.linked_deal_id, row.relation))
    return links


async def _linked_by_key(conn: AsyncConnection, key: str) -> int | None:
    query = sa.select(deal_links.c.deal_id).where(deal_links.c.idempotency_key == key)
    return (await conn.execute(query)).scalar_one_or_none()
