"""Inputs and outputs of the product catalogue's activities (a deal's line items)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class GetDealItemsInput:
    deal_id: str


@dataclass
class DealItemRow:
    """One line of a deal, its figures as decimal strings."""

    position: int
    product_id: str
    product_code: str
    product_name: str
    unit: str
    quantity: str
    price: str
    discount_amount: str
    vat_rate: str
    net: str
    vat: str
    total: str
    product_path: str = ""  # where the product's card is: the table's link to it


@dataclass
class DealItemsInfo:
    deal_id: str
    currency: str
    items: list[DealItemRow] = field(default_factory=list)
    net: str = "0.00"
    vat: str = "0.00"
    total: str = "0.00"
