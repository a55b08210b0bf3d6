"""The margin report: per manager and currency, what came in and went out in a period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from services.common.errors import FieldProblem, ValidationFailed
from services.finance.domain.money import DealMoney


@dataclass(frozen=True)
class MarginRow:
    manager_id: int
    currency: str
    revenue: Decimal
    costs: Decimal
    deals: int

    @property
    def figures(self) -> DealMoney:
        """Profit and profit % computed as for a deal (one rule for both)."""
        return DealMoney(0, self.currency, self.revenue, self.costs)


def check_period(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    problems = [
        FieldProblem(name, "is required")
        for name, value in (("date_from", date_from), ("date_to", date_to))
        if value is None
    ]
    if problems:
        raise ValidationFailed(problems)
    assert date_from is not None and date_to is not None
    if date_from > date_to:
        raise ValidationFailed(FieldProblem("date_from", "must not be after date_to"))
    return date_from, date_to
