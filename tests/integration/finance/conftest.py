"""The finance service over a fresh database, with access and deal owners faked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.access import Access, Permission, Scope
from services.common.db import create_engine
from services.common.errors import NotFound
from services.finance.service import FinanceService

pytestmark = pytest.mark.integration

MANAGER, OTHER_MANAGER, ACCOUNTANT, HEAD = 11, 12, 21, 31
P = Permission
ACCESS = {
    MANAGER: Access(MANAGER, frozenset({"manager"}), 1, Scope.only(MANAGER), frozenset({
        P.INVOICES_REQUEST, P.PAYMENT_REQUESTS_CREATE, P.EXPENSES_CREATE})),
    OTHER_MANAGER: Access(OTHER_MANAGER, frozenset({"manager"}), 2, Scope.only(OTHER_MANAGER),
                          frozenset({P.INVOICES_REQUEST, P.EXPENSES_CREATE})),
    ACCOUNTANT: Access(ACCOUNTANT, frozenset({"accountant"}), None, Scope.all(), frozenset({
        P.INVOICES_ISSUE, P.PAYMENTS_RECORD, P.EXPENSES_CREATE, P.EXPENSES_PAY})),
    HEAD: Access(HEAD, frozenset({"head_of_sales"}), 1, Scope.only(HEAD, MANAGER),
                 frozenset({P.REPORTS_MARGIN, P.INVOICES_REQUEST})),
}  # fmt: skip
DEALS = {100: MANAGER, 101: MANAGER, 200: OTHER_MANAGER}


async def resolver(user_id: int) -> Access:
    return ACCESS[user_id]


async def deal_owner(deal_id: int) -> int:
    if deal_id not in DEALS:
        raise NotFound(f"deal {deal_id} not found")
    return DEALS[deal_id]


@pytest.fixture(scope="module")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=20)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
def service(engine: AsyncEngine) -> FinanceService:
    return FinanceService(engine, resolver=resolver, deal_owner=deal_owner)
