"""The line-item arithmetic: rounding, VAT, discounts, and the rows a deal refuses."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from services.common.errors import ValidationFailed
from services.deals.domain.line_items import (
    DiscountType,
    ProductTerms,
    line_figures,
    money,
    priced_lines,
    totals_of,
)

PENS = ProductTerms(1, "PEN-1", "Pen", "pcs", D("12.50"), "RUB", D("20"))
BAGS = ProductTerms(2, "BAG-1", "Bag", "pcs", D("99.99"), "RUB", D("10"))
DOLLAR = ProductTerms(3, "USB-1", "Stick", "pcs", D("5.00"), "USD", D("0"))
OLD = ProductTerms(4, "OLD-1", "Old", "pcs", D("1.00"), "RUB", D("0"), active=False)
CATALOGUE = {p.id: p for p in (PENS, BAGS, DOLLAR, OLD)}


def lines(*rows: dict[str, object]):  # type: ignore[no-untyped-def]
    return priced_lines(list(rows), CATALOGUE, deal_currency="RUB")


def problems(*rows: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        lines(*rows)
    return {p.field: p.message for p in caught.value.problems}


def test_money_rounds_half_up_to_the_kopeck() -> None:
    assert money(D("5.005")) == D("5.01")
    assert money(D("5.004999")) == D("5.00")
    assert money(D("-0.005")) == D("-0.01")


def test_a_line_is_quantity_times_price_less_discount_plus_vat() -> None:
    off, net, vat, total = line_figures(D("3"), D("12.50"), D("5"), DiscountType.AMOUNT, D("20"))
    assert (off, net, vat, total) == (D("5.00"), D("32.50"), D("6.50"), D("39.00"))


def test_a_percent_discount_is_taken_of_the_line_and_rounded() -> None:
    # 7 × 99.99 = 699.93; 15 % = 104.9895 → 104.99; net 594.94; VAT 10 % = 59.494 → 59.49
    off, net, vat, total = line_figures(D("7"), D("99.99"), D("15"), DiscountType.PERCENT, D("10"))
    assert (off, net, vat, total) == (D("104.99"), D("594.94"), D("59.49"), D("654.43"))


def test_fractional_quantities_round_the_line_once() -> None:
    # 2.333 m × 12.50 = 29.1625 → 29.16; VAT 20 % of 29.16 = 5.832 → 5.83
    (item,) = lines({"product_id": 1, "quantity": "2.333"})
    assert (item.net, item.vat, item.total) == (D("29.16"), D("5.83"), D("34.99"))


def test_rows_take_the_products_price_and_vat_unless_given() -> None:
    first, second = lines(
        {"product_id": 1, "quantity": 10},
        {"product_id": "2", "quantity": "1", "price": "80.00", "vat_rate": "0"},
    )
    assert (first.price, first.vat_rate, first.unit, first.position) == (
        D("12.50"), D("20"), "pcs", 1,
    )  # fmt: skip
    assert (second.price, second.vat, second.total, second.position) == (
        D("80.00"), D("0.00"), D("80.00"), 2,
    )  # fmt: skip


def test_the_deal_totals_are_the_sums_of_the_rounded_lines() -> None:
    items = lines(
        {"product_id": 1, "quantity": "1", "price": "0.05", "vat_rate": "10"},
        {"product_id": 1, "quantity": "1", "price": "0.05", "vat_rate": "10"},
        {"product_id": 2, "quantity": "2", "discount": "10", "discount_type": "percent"},
    )
    totals = totals_of(items, "RUB")
    # VAT of 0.05 at 10 % is 0.005 → 0.01 per line, so 0.02 (not round(0.01) of the sum)
    assert totals.vat == D("0.01") + D("0.01") + D("18.00")
    assert totals.gross == D("0.05") + D("0.05") + D("199.98")
    assert totals.discount == D("20.00")
    assert totals.net == D("0.10") + D("179.98")
    assert totals.total == totals.net + totals.vat == D("198.10")


def test_no_lines_total_zero() -> None:
    assert totals_of([], "RUB").total == D("0.00")


def test_a_discount_of_the_whole_line_is_allowed_one_kopeck_more_is_not() -> None:
    (item,) = lines({"product_id": 1, "quantity": "2", "discount": "25.00"})
    assert item.total == D("0.00")
    assert problems({"product_id": 1, "quantity": "2", "discount": "25.01"}) == {
        "items[0].discount": "is larger than the line (25.00)"
    }


def test_bad_rows_are_named_all_at_once() -> None:
    found = problems(
        {"product_id": 1, "quantity": "1"},
        {"product_id": 1, "quantity": "-1"},
        {"product_id": 2, "quantity": "1", "discount": "101", "discount_type": "percent"},
        {"product_id": 1, "quantity": "1", "currency": "USD"},
        {"product_id": 99, "quantity": "1"},
        {"product_id": 4, "quantity": "1"},
        {"product_id": 3, "quantity": "1"},
        {"product_id": 1, "quantity": "1", "price": "1.001"},
        {"product_id": 1, "quantity": "1", "discount_type": "gift"},
        {"product_id": 1, "quantity": "1", "vat_rate": "120"},
        {"product_id": 1, "quantity": 1.5},
        {"product_id": 1, "quantity": "1", "discount": "-1"},
    )
    assert set(found) == {
        "items[1].quantity",
        "items[2].discount",
        "items[3].currency",
        "items[4].product_id",
        "items[5].product_id",
        "items[6].price",
        "items[7].price",
        "items[8].discount_type",
        "items[9].vat_rate",
        "items[10].quantity",
        "items[11].discount",
    }
    assert found["items[1].quantity"] == "must be greater than 0"
    assert found["items[3].currency"] == "must be the deal's currency, RUB"
    assert "priced in USD" in found["items[6].price"]


def test_a_foreign_product_takes_a_price_in_the_deals_currency() -> None:
    (item,) = lines({"product_id": 3, "quantity": "2", "price": "450.00"})
    assert (item.currency, item.total) == ("RUB", D("900.00"))
