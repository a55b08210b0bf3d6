"""The deals service in process: a gRPC server over a fresh database, and its stub."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from dealflow.deals.v1 import deals_pb2 as pb
from dealflow.deals.v1 import deals_pb2_grpc as pb_grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.db import create_engine
from services.common.grpc_client import call, channel
from services.deals.main import start_server
from services.deals.service import DealsService

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=4)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def service(engine: AsyncEngine) -> DealsService:
    return DealsService(engine)


@pytest.fixture(scope="module")
async def stub(service: DealsService) -> AsyncIterator[pb_grpc.DealsServiceStub]:
    server, port = await start_server(service)
    chan: grpc.aio.Channel = channel(f"127.0.0.1:{port}")
    yield pb_grpc.DealsServiceStub(chan)
    await chan.close()
    await server.stop(None)


@pytest.fixture(scope="module")
async def admin(stub: pb_grpc.DealsServiceStub) -> pb.User:
    request = pb.CreateUserRequest(
        email="root@example.com", name="Root", password="correct horse", roles=["admin"]
    )
    return await call(stub.CreateUser, request)
