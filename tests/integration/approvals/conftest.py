"""The approvals service in process over a fresh database, with access and deal checks
faked (the deals service is not running): users are set up per test in `people`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from dealflow.approvals.v1 import approvals_pb2_grpc as pb_grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from services.approvals.contracts_service import ContractsService
from services.approvals.main import start_server
from services.approvals.service import ApprovalsService
from services.common.access import Access, Permission, Scope
from services.common.db import create_engine
from services.common.errors import NotFound
from services.common.grpc_client import channel

pytestmark = pytest.mark.integration

ADMIN, MANAGER, HEAD, OUTSIDER, APPROVER, STAND_IN = 1, 2, 3, 4, 5, 6
HIDDEN_DEAL = 666  # a deal nobody but the system sees


def _access(user_id: int, scope: Scope, *permissions: Permission) -> Access:
    return Access(user_id, frozenset(), None, scope, frozenset(str(p) for p in permissions))


PEOPLE = {
    ADMIN: _access(ADMIN, Scope.all(), *Permission),
    MANAGER: _access(MANAGER, Scope.only(MANAGER), Permission.CONTRACTS_CREATE),
    HEAD: _access(HEAD, Scope.only(HEAD, MANAGER), Permission.CONTRACTS_EDIT),
    OUTSIDER: _access(OUTSIDER, Scope.only(OUTSIDER), Permission.CONTRACTS_CREATE),
    APPROVER: _access(APPROVER, Scope.only(APPROVER)),
    STAND_IN: _access(STAND_IN, Scope.only(STAND_IN)),
}


async def resolve(user_id: int) -> Access:
    return PEOPLE[user_id]


async def check_deal(deal_id: int, actor_id: int | None) -> None:
    if deal_id == HIDDEN_DEAL and actor_id is not None:
        raise NotFound("deal not found")


@pytest.fixture(scope="module")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=4)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def stub(engine: AsyncEngine) -> AsyncIterator[pb_grpc.ApprovalsServiceStub]:
    service = ApprovalsService(engine, access=resolve)
    contracts = ContractsService(engine, access=resolve, check_deal=check_deal)
    server, port = await start_server(service, contracts)
    chan: grpc.aio.Channel = channel(f"127.0.0.1:{port}")
    yield pb_grpc.ApprovalsServiceStub(chan)
    await chan.close()
    await server.stop(None)
