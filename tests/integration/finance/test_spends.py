"""Payment requests and expenses against real PostgreSQL: the approval seam, paying adds
to the deal's costs, the schedule's running totals (SQL agrees with the domain rule) and
their reset, the margin report per manager under visibility."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.common.errors import PermissionDenied
from services.finance.domain.schedule import with_running_totals
from services.finance.domain.spends import SpendKind
from services.finance.service import FinanceService
from tests.integration.finance.conftest import ACCOUNTANT, HEAD, MANAGER, OTHER_MANAGER

pytestmark = pytest.mark.integration
K = SpendKind


async def new(service: FinanceService, kind: SpendKind, actor: int, deal: int | None, amount: str):  # type: ignore[no-untyped-def]
    return await service.spends.create(
        kind=kind,
        actor_id=actor,
        deal_id=deal,
        owner_id=None,
        counterparty="Print house",
        purpose="Printing",
        amount=amount,
        currency="RUB",
        due_date=date(2026, 12, 10),
    )


async def test_supplier_payment_through_the_seam_adds_to_costs(service: FinanceService) -> None:
    req = await new(service, K.SUPPLIER_PAYMENT, MANAGER, 100, "3000.00")
    req = await service.spends.submit(kind=K.SUPPLIER_PAYMENT, actor_id=MANAGER, spend_id=req.id)
    assert req.status == "in_approval"
    with pytest.raises(PermissionDenied):  # people decide through approvals
        await service.spends.decide(
            kind=K.SUPPLIER_PAYMENT, actor_id=MANAGER, spend_id=req.id, outcome="approve",
            comment="", decided_by=None,
        )  # fmt: skip
    before = await service.deal_money(deal_id=100)
    req = await service.spends.decide(
        kind=K.SUPPLIER_PAYMENT, actor_id=None, spend_id=req.id, outcome="approve", comment="",
        decided_by=HEAD,
    )  # fmt: skip
    req, payment = await service.spends.pay(
        kind=K.SUPPLIER_PAYMENT, actor_id=ACCOUNTANT, spend_id=req.id, paid_on=None,
        reference="PP-9", idempotency_key="",
    )  # fmt: skip
    assert (req.status, payment.direction, payment.amount) == ("paid", "out", Decimal("3000.00"))
    after = await service.deal_money(deal_id=100)
    assert after.costs - before.costs == Decimal("3000.00")
    req = await service.spends.close(actor_id=ACCOUNTANT, spend_id=req.id, documents=["act.pdf"])
    assert req.status == "closed" and req.closing_documents == ["act.pdf"]


async def test_rejected_expense_goes_back_to_the_author(service: FinanceService) -> None:
    exp = await new(service, K.EXPENSE, OTHER_MANAGER, None, "10.00")
    await service.spends.submit(kind=K.EXPENSE, actor_id=OTHER_MANAGER, spend_id=exp.id)
    exp = await service.spends.decide(
        kind=K.EXPENSE, actor_id=None, spend_id=exp.id, outcome="reject", comment="No receipt",
        decided_by=HEAD,
    )  # fmt: skip
    assert (exp.status, exp.decision_comment) == ("rejected", "No receipt")
    exp = await service.spends.submit(kind=K.EXPENSE, actor_id=OTHER_MANAGER, spend_id=exp.id)
    assert exp.status == "in_approval"


async def test_schedule_running_totals_and_reset(service: FinanceService) -> None:
    for amount in ("1.10", "2.20", "3.30"):
        await new(service, K.EXPENSE, MANAGER, None, amount)
    entries = await service.ledger.schedule(actor_id=None, date_from=None, date_to=None)
    mark = 0
    assert sorted(entries, key=lambda e: e.id) == with_running_totals(entries, after_entry_id=mark)
    with pytest.raises(PermissionDenied):
        await service.ledger.reset_schedule(actor_id=MANAGER)
    mark = await service.ledger.reset_schedule(actor_id=None)
    last = await new(service, K.EXPENSE, MANAGER, None, "5.00")
    entries = await service.ledger.schedule(
        actor_id=MANAGER, date_from=date(2026, 12, 1), date_to=date(2026, 12, 31)
    )
    assert all(e.owner_id == MANAGER for e in entries)
    newest = next(e for e in entries if e.source_id == last.id)
    assert newest.running_total == Decimal("5.00")  # counted from the reset on


async def test_margin_report_per_manager_under_visibility(service: FinanceService) -> None:
    rows = await service.ledger.margin(
        actor_id=HEAD, date_from=date(2000, 1, 1), date_to=date(2100, 1, 1)
    )
    assert {r.manager_id for r in rows} <= {HEAD, MANAGER}
    with pytest.raises(PermissionDenied):
        await service.ledger.margin(
            actor_id=MANAGER, date_from=date(2000, 1, 1), date_to=date(2100, 1, 1)
        )
