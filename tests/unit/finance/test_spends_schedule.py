"""Spends' life cycle (the approval seam), the schedule's running totals, deal figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import Conflict, ValidationFailed
from services.finance.domain.money import DealMoney
from services.finance.domain.schedule import Direction, ScheduleEntry, with_running_totals
from services.finance.domain.spends import Spend, SpendKind, SpendStatus, check_decision, move

K, S = SpendKind, SpendStatus


def spend(kind: SpendKind) -> Spend:
    return Spend(1, kind, 3, 3, None, "Printer", "Paper", Decimal("10.00"), "RUB", date.today())


def test_expense_rejected_goes_back_and_is_resubmitted_then_paid() -> None:
    e = spend(K.EXPENSE)
    for target in (S.IN_APPROVAL, S.REJECTED, S.IN_APPROVAL, S.APPROVED, S.PAID):
        move(e, target)
    with pytest.raises(Conflict):
        move(e, S.CLOSED)  # closing documents are for supplier payments


def test_supplier_payment_needs_approval_before_paying() -> None:
    r = spend(K.SUPPLIER_PAYMENT)
    with pytest.raises(Conflict):
        move(r, S.PAID)
    move(r, S.IN_APPROVAL)
    with pytest.raises(Conflict):
        move(r, S.CANCELLED)  # withdraw only outside approval
    for target in (S.APPROVED, S.PAID, S.CLOSED):
        move(r, target)


def test_a_rejection_needs_a_comment() -> None:
    assert check_decision("approve", "") is S.APPROVED
    with pytest.raises(ValidationFailed):
        check_decision("reject", "  ")
    with pytest.raises(ValidationFailed):
        check_decision("maybe", "x")


amounts = st.integers(1, 10**8).map(lambda c: Decimal(c).scaleb(-2))


@given(
    st.lists(
        st.tuples(amounts, st.sampled_from(["open", "cancelled"]), st.booleans()), max_size=30
    ),
    st.integers(0, 30),
)
def test_running_totals_follow_creation_order_since_the_reset(
    rows: list[tuple[Decimal, str, bool]], reset_after: int
) -> None:
    entries = [
        ScheduleEntry(i + 1, "expense", i, Direction.IN if d else Direction.OUT, a, "RUB",
                      date(2026, 12, 31 - i % 28), 1, state)
        for i, (a, state, d) in enumerate(rows)
    ]  # fmt: skip
    out = with_running_totals(reversed(entries), after_entry_id=reset_after)
    for direction in Direction:
        mine = [e for e in out if e.direction is direction]
        expected = Decimal("0.00")
        for e in mine:
            if e.id > reset_after and e.state != "cancelled":
                expected += e.amount
            assert e.running_total == expected


def test_deal_figures() -> None:
    money = DealMoney(1, "RUB", Decimal("12500.01"), Decimal("7000.00"))
    assert (money.profit, money.profit_percent) == (Decimal("5500.01"), Decimal("44.00"))
    assert DealMoney.empty(1).profit_percent is None
