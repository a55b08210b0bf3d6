"""Invoices and the payment registry against real PostgreSQL: balances, refunds,
overpayments, concurrent payments, events in the outbox, access."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from services.finance.domain.invoices import Invoice
from services.finance.domain.payments import PaymentFilter
from services.finance.service import FinanceService
from services.finance.tables import outbox
from tests.integration.finance.conftest import ACCOUNTANT, MANAGER, OTHER_MANAGER

pytestmark = pytest.mark.integration


async def issued(service: FinanceService, deal_id: int, *lines: tuple[str, str, str]) -> Invoice:
    inv = await service.request_invoice(
        actor_id=MANAGER if deal_id != 200 else OTHER_MANAGER,
        deal_id=deal_id,
        owner_id=None,
        counterparty="Acme LLC",
        currency="RUB",
        lines=list(lines) or [("Pens", "1000", "12.50")],
        due_date=None,
        comment="",
    )
    return await service.issue_invoice(
        actor_id=ACCOUNTANT,
        invoice_id=inv.id,
        number=f"INV-{inv.id}",
        lines=[],
        due_date=__import__("datetime").date(2026, 12, 1),
        file_ref=f"files/inv-{inv.id}.pdf",
    )


async def events(engine: AsyncEngine, type_: str, subject: str) -> list[dict[str, object]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(outbox.c.data)
            .where(outbox.c.type == type_, outbox.c.subject == subject)
            .order_by(outbox.c.seq)
        )
        return [dict(r.data) for r in rows]


async def pay(service: FinanceService, invoice_id: int, amount: str, key: str = "") -> Invoice:
    _, inv = await service.record_payment(
        actor_id=ACCOUNTANT,
        invoice_id=invoice_id,
        amount=amount,
        paid_on=None,
        reference="",
        idempotency_key=key,
    )
    return inv


async def test_partial_payments_refund_and_overpayment(
    service: FinanceService, engine: AsyncEngine
) -> None:
    inv = await issued(service, 100, ("Pens", "1000", "12.50"), ("Print", "1", "0.01"))
    assert inv.total == Decimal("12500.01") and inv.status == "issued"
    inv = await pay(service, inv.id, "5000.00")
    assert (inv.status, inv.balance) == ("partially_paid", Decimal("7500.01"))
    inv = await pay(service, inv.id, "7500.01")
    assert (inv.status, inv.balance) == ("fully_paid", Decimal("0"))
    inv = await pay(service, inv.id, "-100.00")  # a refund reopens it
    assert (inv.status, inv.balance) == ("partially_paid", Decimal("100.00"))
    inv = await pay(service, inv.id, "150.00")  # 50 more than due: kept, reported
    assert (inv.status, inv.overpaid) == ("fully_paid", Decimal("50.00"))
    assert inv.balance == Decimal("-50.00")

    fully = await events(engine, "finance.invoice.fully_paid", f"invoice/{inv.id}")
    assert [e["times"] for e in fully] == [1, 2]
    over = await events(engine, "finance.invoice.overpaid", f"invoice/{inv.id}")
    assert [e["overpayment"] for e in over] == ["50.00"]
    money = await service.deal_money(deal_id=100)
    assert money.revenue == Decimal("12500.01")  # the overpayment is not revenue
    registry = await service.list_payments(
        actor_id=MANAGER, where=PaymentFilter(invoice_id=inv.id), cursor="", limit=50
    )
    assert [str(p.amount) for p in registry.items] == ["150.00", "-100.00", "7500.01", "5000.00"]
    assert [p.kind for p in registry.items] == ["payment", "refund", "payment", "payment"]


async def test_concurrent_payments_lose_nothing(
    service: FinanceService, engine: AsyncEngine
) -> None:
    inv = await issued(service, 101, ("Mugs", "20", "10.00"))
    results = await asyncio.gather(*(pay(service, inv.id, "10.00") for _ in range(20)))
    assert sum(1 for r in results if r.status == "fully_paid") >= 1
    final = await service.get_invoice(actor_id=MANAGER, invoice_id=inv.id)
    assert (final.paid, final.balance, final.status) == (Decimal("200.00"), 0, "fully_paid")
    assert len(await events(engine, "finance.invoice.fully_paid", f"invoice/{inv.id}")) == 1
    recorded = await events(engine, "finance.payment.recorded", f"invoice/{inv.id}")
    paid_after = sorted(Decimal(e["after"]["paid"]) for e in recorded)  # type: ignore[index]
    assert paid_after == [Decimal(10 * i) for i in range(1, 21)]  # each saw the one before


async def test_a_retried_payment_is_recorded_once(service: FinanceService) -> None:
    inv = await issued(service, 100)
    first, again = await asyncio.gather(
        pay(service, inv.id, "100.00", key=f"k-{inv.id}"),
        pay(service, inv.id, "100.00", key=f"k-{inv.id}"),
    )
    assert first.paid == again.paid == Decimal("100.00")
    final = await service.get_invoice(actor_id=None, invoice_id=inv.id)
    assert final.paid == Decimal("100.00")


async def test_bad_input_and_rules(service: FinanceService) -> None:
    inv = await issued(service, 100)
    for bad in ("1e3", "10.001", "0", "abc", "1,5"):
        with pytest.raises(ValidationFailed):
            await pay(service, inv.id, bad)
    with pytest.raises(ValidationFailed):  # a refund above what was paid
        await pay(service, inv.id, "-1.00")
    with pytest.raises(PermissionDenied):
        await service.record_payment(
            actor_id=MANAGER,
            invoice_id=inv.id,
            amount="1.00",
            paid_on=None,
            reference="",
            idempotency_key="",
        )
    with pytest.raises(NotFound):  # another manager's invoice does not exist for them
        await service.get_invoice(actor_id=OTHER_MANAGER, invoice_id=inv.id)
    with pytest.raises(NotFound):  # nor can they invoice a deal they do not see
        await issued(service, 999)
    await pay(service, inv.id, "1.00")
    with pytest.raises(Conflict):
        await service.cancel_invoice(actor_id=ACCOUNTANT, invoice_id=inv.id)
    listed = await service.list_invoices(
        actor_id=OTHER_MANAGER, deal_id=None, status="", counterparty="", cursor="", limit=50
    )
    assert all(i.owner_id == OTHER_MANAGER for i in listed.items)


async def test_a_deal_keeps_one_currency(service: FinanceService) -> None:
    with pytest.raises(ValidationFailed, match="kept in RUB"):
        await service.request_invoice(
            actor_id=MANAGER,
            deal_id=100,
            owner_id=None,
            counterparty="Acme",
            currency="USD",
            lines=[("x", "1", "1.00")],
            due_date=None,
            comment="",
        )
