"""Money figures of a deal (read side; the registries land with their issue)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.finance.domain.money import DealMoney
from services.finance.tables import deal_money


class FinanceService:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def deal_money(self, *, deal_id: int) -> DealMoney:
        """The deal's figures; zeros for a deal with no money recorded yet."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(sa.select(deal_money).where(deal_money.c.deal_id == deal_id))
            ).first()
        if row is None:
            return DealMoney.empty(deal_id)
        return DealMoney(row.deal_id, row.currency, row.revenue, row.costs)
