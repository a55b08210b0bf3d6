"""A product card of a promo project (BT-4): its type and characteristics come from admin
lists, so a manager picks what the agency makes.

- the types list (default code `product_types`): one row per type, its `code` column the
  type's code (e.g. `tshirt`), `name` its name;
- the characteristics list (default `product_characteristics`): one row per allowed value,
  columns `type` (a type's code), `characteristic` (e.g. `material`) and `value` (`cotton`).

A card names its characteristics as `characteristic=value` strings; each must be a row of
the characteristics list for the card's type, and each characteristic is given once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

Row = Mapping[str, Any]


def card_problems(
    *,
    product_type: str,
    characteristics: Sequence[str],
    quantity: Any,
    types: Sequence[Row],
    allowed: Sequence[Row],
) -> list[str]:
    """What is wrong with a card (each problem naming its field), or nothing."""
    problems: list[str] = []
    codes = [str(row.get("code", "")) for row in types]
    if product_type not in codes:
        known = ", ".join(c for c in codes if c) or "none (fill the types list)"
        problems.append(f"'type' must be one of: {known}; got {product_type!r}")
    try:
        if Decimal(str(quantity)) <= 0:
            problems.append("'quantity' must be more than 0")
    except InvalidOperation:
        problems.append("'quantity' must be a number")
    values = {
        (str(row.get("characteristic", "")), str(row.get("value", "")))
        for row in allowed
        if str(row.get("type", "")) == product_type
    }
    seen: set[str] = set()
    for n, text in enumerate(characteristics):
        name, sep, value = str(text).partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            problems.append(f"'characteristics[{n}]' must be characteristic=value, got {text!r}")
        elif name in seen:
            problems.append(f"'characteristics[{n}]' gives {name!r} twice")
        elif (name, value) not in values:
            choices = sorted(v for c, v in values if c == name)
            hint = f"one of: {', '.join(choices)}" if choices else "not a characteristic of it"
            problems.append(
                f"'characteristics[{n}]' {name}={value} is not allowed for {product_type!r} "
                f"({hint})"
            )
        seen.add(name)
    return problems
