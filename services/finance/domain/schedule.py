"""The payment schedule: what is due when, with running totals in order of creation.

Running totals restart after an admin's reset: an entry counts only if it was created after
the latest reset. They are kept per currency and direction (money in, money out), so a
calendar can show "paid out so far" and "expected in so far" side by side.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


@dataclass(frozen=True)
class ScheduleEntry:
    id: int  # creation order
    source: str  # invoice, supplier_payment or expense
    source_id: int
    direction: Direction
    amount: Decimal
    currency: str
    due_date: date
    owner_id: int
    state: str  # open, paid or cancelled
    running_total: Decimal = Decimal("0.00")


def with_running_totals(
    entries: Iterable[ScheduleEntry], *, after_entry_id: int
) -> list[ScheduleEntry]:
    """Entries in creation order, each with the sum so far of its currency and direction
    (cancelled entries and those before the reset count nothing)."""
    totals: dict[tuple[str, Direction], Decimal] = {}
    out = []
    for entry in sorted(entries, key=lambda e: e.id):
        key = (entry.currency, entry.direction)
        if entry.id > after_entry_id and entry.state != "cancelled":
            totals[key] = totals.get(key, Decimal("0.00")) + entry.amount
        out.append(replace(entry, running_total=totals.get(key, Decimal("0.00"))))
    return out
