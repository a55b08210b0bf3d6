"""A deal's money figures: revenue, costs, profit and profit %, exact to the kopeck."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


@dataclass(frozen=True)
class DealMoney:
    deal_id: int
    currency: str
    revenue: Decimal
    costs: Decimal

    @property
    def profit(self) -> Decimal:
        return (self.revenue - self.costs).quantize(CENT, ROUND_HALF_UP)

    @property
    def profit_percent(self) -> Decimal | None:
        """Profit as a percentage of revenue; None while there is no revenue."""
        if self.revenue == 0:
            return None
        return (self.profit * 100 / self.revenue).quantize(CENT, ROUND_HALF_UP)

    @classmethod
    def empty(cls, deal_id: int, currency: str = "RUB") -> DealMoney:
        return cls(deal_id, currency, Decimal("0.00"), Decimal("0.00"))
