"""What a process learns of an invoice from finance's `finance.payment.recorded` events
(workflows/invoice_changes.py, workflows/kit/invoices.py), and the product card rules."""

from __future__ import annotations

import pytest

from process_rules.product_cards import card_problems
from services.common.errors import DomainError
from workflows.invoice_changes import change_of
from workflows.kit.invoices import InvoiceChange, InvoiceWaits

RECORDED = {
    "invoice_id": "12",
    "deal_id": "7",
    "status": "partially_paid",
    "paid": "5000.00",
    "balance": "10000.00",
    "payment_id": "3",
    "amount": "5000.00",
}


def test_a_payment_event_names_the_deal_and_the_invoice_s_state() -> None:
    deal_id, change = change_of(RECORDED)
    assert deal_id == "7"
    assert change == InvoiceChange("12", "partially_paid", "5000.00", "10000.00")
    assert change_of({**RECORDED, "deal_id": ""})[0] == ""  # a payment without a deal
    with pytest.raises(DomainError):
        change_of({"deal_id": "7"})


def test_what_was_seen_sticks_whatever_the_order_of_events() -> None:
    waits = InvoiceWaits()
    assert not waits.is_paid("12")
    waits.apply(InvoiceChange("12", "fully_paid", "15000.00", "0.00"))
    waits.apply(InvoiceChange("12", "partially_paid", "5000.00", "10000.00"))  # late, older
    assert waits.is_paid("12") and waits.is_paid("12", fully=True)
    waits.apply(InvoiceChange("13", "issued", "0.00", "10.00"))
    assert not waits.is_paid("13")
    waits.apply(InvoiceChange("13", "issued", "-5.00", "15.00"))  # a refund is no payment
    assert not waits.is_paid("13")


TYPES = [{"code": "tshirt"}, {"code": "banner"}]
ALLOWED = [
    {"type": "tshirt", "characteristic": "material", "value": "cotton"},
    {"type": "tshirt", "characteristic": "size", "value": "XL"},
]


@pytest.mark.parametrize(
    ("product_type", "characteristics", "quantity", "expected"),
    [
        ("tshirt", ["material=cotton", "size=XL"], "10", []),
        ("mug", [], "1", ["'type' must be one of: tshirt, banner; got 'mug'"]),
        ("tshirt", [], "0", ["'quantity' must be more than 0"]),
        ("tshirt", [], "lots", ["'quantity' must be a number"]),
        (
            "tshirt",
            ["cotton"],
            "1",
            ["'characteristics[0]' must be characteristic=value, got 'cotton'"],
        ),
        ("tshirt", ["size=XL", "size=XL"], "1", ["'characteristics[1]' gives 'size' twice"]),
        (
            "tshirt",
            ["material=vinyl"],
            "1",
            ["'characteristics[0]' material=vinyl is not allowed for 'tshirt' (one of: cotton)"],
        ),
        (
            "banner",
            ["material=cotton"],
            "1",
            [
                "'characteristics[0]' material=cotton is not allowed for 'banner' "
                "(not a characteristic of it)"
            ],
        ),
    ],
)
def test_a_card_s_type_and_characteristics_come_from_the_lists(
    product_type: str, characteristics: list[str], quantity: str, expected: list[str]
) -> None:
    problems = card_problems(
        product_type=product_type,
        characteristics=characteristics,
        quantity=quantity,
        types=TYPES,
        allowed=ALLOWED,
    )
    assert problems == expected
