"""A deal's line items and their totals, exactly in Decimal.

A line is quantity × price less its discount (an amount, or a percent of quantity × price),
rounded to the currency's minor unit (2 places, half up): its `net`. VAT is added on top at
the line's rate (`vat = round(net × rate / 100)`), `total = net + vat`. The deal's totals
are the sums of its lines' rounded figures, so each line and the total agree to the kopeck
on any printed table. Prices are net of VAT.

Every problem names its row (`items[2].discount`), and all of them are reported at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from process_rules.field_values import BadValue, decimal_of
from services.common.errors import FieldProblem, ValidationFailed

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
MAX_ITEMS = 500
MAX_QUANTITY = Decimal("1e12")
MAX_PRICE = Decimal("1e15")


class RowProblem(ValueError):
    """What is wrong with one part of a row (`part` names the field within the row)."""

    def __init__(self, part: str, message: str) -> None:
        super().__init__(message)
        self.part, self.message = part, message


class DiscountType(StrEnum):
    AMOUNT = "amount"
    PERCENT = "percent"


@dataclass(frozen=True)
class ProductTerms:
    """What a line takes from its product unless the row says otherwise."""

    id: int
    code: str
    name: str
    unit: str
    price: Decimal
    currency: str
    vat_rate: Decimal
    active: bool = True


@dataclass(frozen=True)
class LineItem:
    position: int  # 1-based order on the deal
    product_id: int
    product_code: str
    product_name: str
    unit: str
    quantity: Decimal
    price: Decimal
    currency: str
    discount: Decimal  # as given: an amount, or a percent
    discount_type: DiscountType
    discount_amount: Decimal  # what the discount takes off, rounded
    vat_rate: Decimal
    net: Decimal
    vat: Decimal
    total: Decimal


@dataclass(frozen=True)
class Totals:
    currency: str
    gross: Decimal  # before discounts
    discount: Decimal
    net: Decimal
    vat: Decimal
    total: Decimal


def money(value: Decimal) -> Decimal:
    """Rounded to the minor unit, half up (5.005 → 5.01)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_figures(
    quantity: Decimal,
    price: Decimal,
    discount: Decimal,
    discount_type: DiscountType,
    vat_rate: Decimal,
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(discount amount, net, vat, total) of one line; RowProblem names the part at fault."""
    gross = quantity * price
    if discount_type is DiscountType.PERCENT:
        if discount > HUNDRED:
            raise RowProblem("discount", "a percent discount must be at most 100")
        off = money(gross * discount / HUNDRED)
    else:
        off = money(discount)
        if off > money(gross):
            raise RowProblem("discount", f"is larger than the line ({money(gross)})")
    net = money(gross) - off
    vat = money(net * vat_rate / HUNDRED)
    return off, net, vat, net + vat


def priced_lines(
    rows: Sequence[Mapping[str, Any]],
    products: Mapping[int, ProductTerms],
    *,
    deal_currency: str,
) -> list[LineItem]:
    """The deal's lines from the rows sent (each `product_id`, `quantity`, optional
    `price`, `currency`, `discount`, `discount_type`, `vat_rate`), priced; ValidationFailed
    naming every bad row's field."""
    if len(rows) > MAX_ITEMS:
        raise ValidationFailed(FieldProblem("items", f"at most {MAX_ITEMS} lines"))
    problems: list[FieldProblem] = []
    lines: list[LineItem] = []
    for i, row in enumerate(rows):
        try:
            lines.append(_line(i + 1, row, products, deal_currency))
        except RowProblem as exc:
            problems.append(FieldProblem(f"items[{i}].{exc.part}", exc.message))
    if problems:
        raise ValidationFailed(problems)
    return lines


def totals_of(lines: Sequence[LineItem], currency: str) -> Totals:
    zero = Decimal("0.00")
    return Totals(
        currency=currency,
        gross=sum((money(x.quantity * x.price) for x in lines), zero),
        discount=sum((x.discount_amount for x in lines), zero),
        net=sum((x.net for x in lines), zero),
        vat=sum((x.vat for x in lines), zero),
        total=sum((x.total for x in lines), zero),
    )


def _line(
    position: int, row: Mapping[str, Any], products: Mapping[int, ProductTerms], currency: str
) -> LineItem:
    product = products.get(_product_id(row.get("product_id")))
    if product is None:
        raise RowProblem("product_id", "is not a product of the catalogue")
    if not product.active:
        raise RowProblem("product_id", f"product {product.code} is not active")
    row_currency = str(row.get("currency") or currency).strip().upper()
    if row_currency != currency:
        raise RowProblem("currency", f"must be the deal's currency, {currency}")
    quantity = _number(row, "quantity", None)
    if quantity <= 0:
        raise RowProblem("quantity", "must be greater than 0")
    if quantity > MAX_QUANTITY:
        raise RowProblem("quantity", "is too large")
    if row.get("price") in (None, "") and product.currency != currency:
        raise RowProblem(
            "price",
            f"product {product.code} is priced in {product.currency}: give the price in {currency}",
        )
    price = _number(row, "price", product.price)
    if price < 0 or price > MAX_PRICE:
        raise RowProblem("price", "must be between 0 and 10^15")
    if price != money(price):
        raise RowProblem("price", "must have at most 2 decimal places")
    discount = _number(row, "discount", Decimal(0))
    if discount < 0:
        raise RowProblem("discount", "must not be negative")
    try:
        kind = DiscountType(row.get("discount_type") or DiscountType.AMOUNT)
    except ValueError:
        raise RowProblem("discount_type", "must be amount or percent") from None
    vat_rate = _number(row, "vat_rate", product.vat_rate)
    if not 0 <= vat_rate <= HUNDRED:
        raise RowProblem("vat_rate", "must be between 0 and 100")
    off, net, vat, total = line_figures(quantity, price, discount, kind, vat_rate)
    return LineItem(
        position=position,
        product_id=product.id,
        product_code=product.code,
        product_name=product.name,
        unit=product.unit,
        quantity=quantity,
        price=price,
        currency=currency,
        discount=discount,
        discount_type=kind,
        discount_amount=off,
        vat_rate=vat_rate,
        net=net,
        vat=vat,
        total=total,
    )


def _product_id(raw: Any) -> int:
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    raise RowProblem("product_id", "is required: the id of a product")


def _number(row: Mapping[str, Any], name: str, default: Decimal | None) -> Decimal:
    raw = row.get(name)
    if raw in (None, ""):
        if default is None:
            raise RowProblem(name, "is required")
        return default
    try:
        return decimal_of(raw)
    except BadValue as exc:
        raise RowProblem(name, str(exc)) from None
