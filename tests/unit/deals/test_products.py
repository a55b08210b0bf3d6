"""A product's attributes and its characteristics drawn from admin lists."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.common.errors import ValidationFailed
from services.deals.domain.lists import AdminList, Column, ColumnType, ListItem
from services.deals.domain.products import CharacteristicList, check_characteristics, clean_product

MATERIALS = CharacteristicList(
    AdminList(
        "materials",
        "Materials",
        (Column("value", "Value", ColumnType.STRING), Column("type", "Type", ColumnType.STRING)),
    ),
    [
        ListItem(1, "materials", {"value": "cotton", "type": "tshirt"}),
        ListItem(2, "materials", {"value": "steel", "type": "mug"}),
        ListItem(3, "materials", {"value": "paper", "type": ""}),
    ],
)
COLOURS = CharacteristicList(
    AdminList("colours", "Colours", (Column("name", "Name", ColumnType.STRING),)),
    [ListItem(4, "colours", {"name": "red"})],
)
LISTS = {"materials": MATERIALS, "colours": COLOURS}


def test_a_list_with_a_type_column_says_which_values_fit_a_type() -> None:
    assert MATERIALS.allowed("tshirt") == ["cotton", "paper"]
    assert MATERIALS.allowed("mug") == ["steel", "paper"]
    assert COLOURS.allowed("anything") == ["red"]  # no `value` column: the first one


def test_characteristics_take_the_lists_values_for_the_type() -> None:
    chosen = {"materials": "cotton", "colours": "red"}
    assert check_characteristics(chosen, "tshirt", LISTS) == chosen
    with pytest.raises(ValidationFailed) as caught:
        check_characteristics({"materials": "steel", "sizes": "XL"}, "tshirt", LISTS)
    assert {p.field for p in caught.value.problems} == {
        "characteristics.materials",
        "characteristics.sizes",
    }


def test_creating_needs_code_name_type_and_price() -> None:
    with pytest.raises(ValidationFailed) as caught:
        clean_product({"unit": ""}, creating=True)
    assert {p.field for p in caught.value.problems} >= {"code", "name", "type", "price", "unit"}
    clean = clean_product(
        {"code": "PEN-1", "name": " Pen ", "type": "pen", "price": "12.50", "vat_rate": "20"},
        creating=True,
    )
    assert clean["name"] == "Pen" and clean["price"] == Decimal("12.50")


@pytest.mark.parametrize(
    ("name", "value"),
    [("price", "-1"), ("price", "1.001"), ("vat_rate", "101"), ("currency", "rubles"),
     ("type", "T-Shirt"), ("code", "-x"), ("active", "yes"), ("colour", "red")],
)  # fmt: skip
def test_bad_attributes_are_named(name: str, value: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        clean_product({name: value}, creating=False)
    assert [p.field for p in caught.value.problems] == [name]
