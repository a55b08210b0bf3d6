"""Deals as the API shows them (`ListDeals`, `GetDeal`): each with the deals linked to it
and its next planned activity, read in the statement that reads the deals — one round trip
for a page rather than one for the deals, one for their links and one for their activities."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection

from services.deals import repository
from services.deals.activities_tables import activities
from services.deals.automation_tables import deal_links
from services.deals.domain.activities import PLANNED, Activity
from services.deals.domain.deals import Deal
from services.deals.repository import DealFilter


@dataclass(frozen=True)
class ShownDeal:
    deal: Deal
    links: list[tuple[int, str]]  # (linked deal id, relation), oldest first
    next_activity: Activity | None  # the earliest planned one, if any


# The next activity's columns in the order of `Activity`'s fields, last in the statement.
_NEXT = tuple(activities.c[f.name] for f in fields(Activity))


def _shown(deals_select: sa.Select[Any]) -> sa.Select[Any]:
    """`deals_select` (the rows `repository.deal_of` maps) as a subquery, each of its deals
    joined (LATERAL) to its links aggregated in two arrays and to its next activity: the
    subquery keeps its own LIMIT, so only the page's deals are joined."""
    page = deals_select.subquery("page")
    order = (deal_links.c.created_at, deal_links.c.linked_deal_id)
    links = (
        sa.select(
            sa.func.array_agg(aggregate_order_by(deal_links.c.linked_deal_id, *order)).label(
                "link_ids"
            ),
            sa.func.array_agg(aggregate_order_by(deal_links.c.relation, *order)).label(
                "link_relations"
            ),
        )
        .where(deal_links.c.deal_id == page.c.id)
        .lateral("links")
    )
    following = (
        sa.select(*(c.label(f"next_{c.name}") for c in _NEXT))
        .where(activities.c.deal_id == page.c.id, activities.c.status == PLANNED)
        .order_by(activities.c.due_at, activities.c.id)
        .limit(1)
        .lateral("following")
    )
    return (
        sa.select(page, links, following)
        .select_from(page.join(links, sa.true()).outerjoin(following, sa.true()))
        .order_by(page.c.id.desc())
    )


def _shown_of(row: sa.Row[Any]) -> ShownDeal:
    ids, relations = row.link_ids, row.link_relations
    following = row[-len(_NEXT) :]
    return ShownDeal(
        repository.deal_of(row),
        list(zip(ids, relations, strict=True)) if ids else [],
        Activity(*following) if following[0] is not None else None,
    )


_SHOWN_DEAL = _shown(repository.GET_DEAL)  # built once, as GET_DEAL


async def list_shown(
    conn: AsyncConnection, where: DealFilter, *, before_id: int | None, limit: int
) -> list[ShownDeal]:
    """`repository.list_deals`, each deal with its links and next activity."""
    query = _shown(repository.deals_query(where, before_id=before_id, limit=limit))
    return [_shown_of(row) for row in (await conn.execute(query)).all()]


async def shown_deal(conn: AsyncConnection, deal_id: int) -> ShownDeal | None:
    """`repository.get_deal` with the deal's links and next activity."""
    row = (await conn.execute(_SHOWN_DEAL, {"b_id": deal_id})).first()
    return _shown_of(row) if row else None
