"""Invoice rules: any sequence of payments and refunds keeps balance = total - paid and is
fully paid exactly when paid >= total; amounts are exact to the kopeck."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import Conflict, ValidationFailed
from services.finance.domain.amounts import parse_amount
from services.finance.domain.invoices import (
    Invoice,
    InvoiceStatus,
    apply_payment,
    build_lines,
    check_transition,
    total_of,
)

S = InvoiceStatus
cents = st.integers(min_value=1, max_value=10**9).map(lambda c: Decimal(c).scaleb(-2))


def issued(total: Decimal) -> Invoice:
    line = build_lines([("Goods", "1", f"{total:f}")], "RUB")
    return Invoice(1, 7, 3, 3, "Acme", "RUB", S.ISSUED, line, total_of(line))


@given(total=cents, moves=st.lists(st.tuples(st.booleans(), cents), max_size=40))
def test_any_payments_and_refunds_keep_the_registry_exact(
    total: Decimal, moves: list[tuple[bool, Decimal]]
) -> None:
    inv = issued(total)
    paid = Decimal("0.00")
    revenue = Decimal("0.00")
    reached = 0
    for refund, amount in moves:
        value = -amount if refund else amount
        if paid + value < 0:
            with pytest.raises(ValidationFailed):
                apply_payment(inv, value)
            continue
        was_full = inv.status is S.FULLY_PAID
        effect = apply_payment(inv, value)
        paid += value
        revenue += effect.revenue_delta
        assert inv.paid == paid and inv.balance == total - paid
        assert (inv.status is S.FULLY_PAID) == (paid >= total)
        assert inv.status is (S.ISSUED if paid == 0 else inv.status)
        assert effect.became_fully_paid == (not was_full and paid >= total)
        reached += effect.became_fully_paid
        assert revenue == min(paid, total)  # revenue never counts an overpayment
        assert inv.overpaid == max(Decimal(0), paid - total)
        assert inv.balance.as_tuple().exponent >= -2  # never finer than a kopeck
    assert inv.fully_paid_count == reached


@given(st.lists(cents, min_size=1, max_size=30))
def test_paying_in_parts_reaches_fully_paid_on_the_last_part(parts: list[Decimal]) -> None:
    inv = issued(sum(parts, Decimal("0.00")))
    effects = [apply_payment(inv, p) for p in parts]
    assert [e.became_fully_paid for e in effects] == [False] * (len(parts) - 1) + [True]
    assert inv.balance == 0 and inv.status is S.FULLY_PAID


def test_line_amounts_round_half_up_to_the_kopeck() -> None:
    lines = build_lines([("a", "0.333", "10.05"), ("b", "3", "0.10")], "RUB")
    assert [ln.amount for ln in lines] == [Decimal("3.35"), Decimal("0.30")]
    assert total_of(lines) == Decimal("3.65")


@pytest.mark.parametrize("bad", ["1e3", "1.001", "0", "-0", "01", "1,5", " 1", "NaN", "Infinity"])
def test_amounts_are_strict(bad: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_amount(bad, "RUB", negative=True)


def test_currency_decides_the_decimal_places() -> None:
    assert parse_amount("100", "JPY") == Decimal(100)
    with pytest.raises(ValidationFailed):
        parse_amount("100.5", "JPY")
    assert str(parse_amount("0.1", "RUB")) == "0.10"


def test_payments_only_on_issued_invoices_and_transitions_are_explicit() -> None:
    inv = issued(Decimal("10.00"))
    inv.status = S.DRAFT
    with pytest.raises(Conflict):
        apply_payment(inv, Decimal("1.00"))
    check_transition(S.DRAFT, S.ISSUED)
    with pytest.raises(Conflict):
        check_transition(S.PARTIALLY_PAID, S.CANCELLED)
    with pytest.raises(Conflict):
        check_transition(S.CANCELLED, S.ISSUED)
