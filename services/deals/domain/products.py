"""The product catalogue: a product's attributes and the rule of its characteristics.

A characteristic is named by an admin list's code (`materials`, `sizes`); its value must be
the `value` (else the first column) of one of that list's rows, and when the list has a
`type` column, of a row whose type is the product's or empty: so the lists say which
materials and sizes each type of product comes in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from process_rules.field_values import BadValue, decimal_of
from services.common.errors import FieldProblem, ValidationFailed
from services.deals.domain.attributes import clean_each
from services.deals.domain.line_items import HUNDRED, money
from services.deals.domain.lists import AdminList, ListItem

PRODUCT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,63}$")
TYPE_CODE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_NAME = 300
MAX_UNIT = 20
# What POST takes (code, name, type, price are required) and PATCH may change.
ATTRIBUTES = ("code", "name", "type", "unit", "price", "currency", "vat_rate", "active")
REQUIRED = ("code", "name", "type", "price")


@dataclass
class Product:
    id: int
    code: str
    name: str
    type: str
    unit: str
    price: Decimal
    currency: str
    vat_rate: Decimal
    characteristics: dict[str, str] = field(default_factory=dict)
    active: bool = True
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def attributes(self) -> dict[str, Any]:
        """JSON-ready, for events."""
        return {
            "code": self.code,
            "name": self.name,
            "type": self.type,
            "unit": self.unit,
            "price": format(self.price, "f"),
            "currency": self.currency,
            "vat_rate": format(self.vat_rate, "f"),
            "characteristics": dict(self.characteristics),
            "active": self.active,
        }


def clean_product(values: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """The product attributes given, checked and normalised; creating needs code, name,
    type and price."""
    problems = [
        FieldProblem(name, "is required")
        for name in REQUIRED
        if creating and values.get(name) in (None, "")
    ] + [FieldProblem(n, "is not an attribute of a product") for n in values if n not in ATTRIBUTES]
    given = {
        name: raw
        for name, raw in values.items()
        if name in ATTRIBUTES and raw is not None and not (raw == "" and name in REQUIRED)
    }
    return clean_each(given, _attribute, problems)


def _attribute(name: str, raw: Any) -> Any:
    match name:
        case "code":
            code = str(raw).strip()
            if not PRODUCT_CODE.match(code):
                raise BadValue("must be 1 to 64 letters, digits, _ . - /, starting alphanumeric")
            return code
        case "name":
            text = str(raw).strip()
            if not text or len(text) > MAX_NAME:
                raise BadValue(f"must be 1 to {MAX_NAME} characters")
            return text
        case "type":
            if not isinstance(raw, str) or not TYPE_CODE.match(raw):
                raise BadValue("must be a lower-case code (^[a-z][a-z0-9_]*$)")
            return raw
        case "unit":
            unit = str(raw).strip()
            if not unit or len(unit) > MAX_UNIT:
                raise BadValue(f"must be 1 to {MAX_UNIT} characters")
            return unit
        case "price":
            price = decimal_of(raw)
            if price < 0 or price != money(price):
                raise BadValue("must be a non-negative amount with at most 2 decimal places")
            return price
        case "currency":
            currency = str(raw).strip().upper()
            if not CURRENCY.match(currency):
                raise BadValue("must be an ISO 4217 code of three letters")
            return currency
        case "vat_rate":
            rate = decimal_of(raw)
            if not 0 <= rate <= HUNDRED:
                raise BadValue("must be a percent between 0 and 100")
            return rate
        case "active":
            if not isinstance(raw, bool):
                raise BadValue("must be true or false")
            return raw
    raise BadValue("is not an attribute of a product")  # pragma: no cover - ATTRIBUTES


@dataclass(frozen=True)
class CharacteristicList:
    """An admin list a characteristic draws its values from, with its rows."""

    admin_list: AdminList
    items: Sequence[ListItem]

    def allowed(self, product_type: str) -> list[str]:
        columns = [c.code for c in self.admin_list.columns]
        value_column = "value" if "value" in columns else columns[0]
        typed = "type" in columns
        return [
            str(item.values[value_column])
            for item in self.items
            if value_column in item.values
            and (not typed or item.values.get("type") in (None, "", product_type))
        ]


def check_characteristics(
    characteristics: Mapping[str, Any],
    product_type: str,
    lists: Mapping[str, CharacteristicList],
) -> dict[str, str]:
    """Each characteristic names an admin list and takes one of its values for the type."""
    problems: list[FieldProblem] = []
    clean: dict[str, str] = {}
    for code, raw in characteristics.items():
        where = f"characteristics.{code}"
        source = lists.get(code)
        if source is None:
            problems.append(FieldProblem(where, f"no admin list {code!r} holds its values"))
            continue
        allowed = source.allowed(product_type)
        value = str(raw).strip() if isinstance(raw, str | int) and raw is not True else None
        if value not in allowed:
            shown = ", ".join(allowed) or "none"
            problems.append(
                FieldProblem(where, f"must be one of the list's values for {product_type}: {shown}")
            )
            continue
        clean[code] = value
    if problems:
        raise ValidationFailed(problems)
    return clean
