"""The notifications service in process: a gRPC server over a fresh database, its stub,
and a JetStream connection with the streams provisioned. The deals service runs in
process too: it answers who a user is, what they see, and who stands in for them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import nats
import pytest
from dealflow.deals.v1 import deals_pb2_grpc
from dealflow.notifications.v1 import notifications_pb2_grpc as pb_grpc
from nats.aio.client import Client as NATS
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.db import create_engine
from services.common.grpc_client import channel
from services.common.nats import provision_streams
from services.deals.main import start_server as start_deals
from services.deals.service import DealsService
from services.notifications.main import start_server
from services.notifications.people import DealsPeople
from services.notifications.service import NotificationsService

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=4)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def deals(engine: AsyncEngine) -> AsyncIterator[deals_pb2_grpc.DealsServiceStub]:
    server, port = await start_deals(DealsService(engine))
    chan: grpc.aio.Channel = channel(f"127.0.0.1:{port}")
    yield deals_pb2_grpc.DealsServiceStub(chan)
    await chan.close()
    await server.stop(None)


@pytest.fixture(scope="module")
async def stub(
    engine: AsyncEngine, deals: deals_pb2_grpc.DealsServiceStub
) -> AsyncIterator[pb_grpc.NotificationsServiceStub]:
    service = NotificationsService(engine, people=DealsPeople(deals))
    server, port = await start_server(service)
    chan: grpc.aio.Channel = channel(f"127.0.0.1:{port}")
    yield pb_grpc.NotificationsServiceStub(chan)
    await chan.close()
    await server.stop(None)


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    client = await nats.connect(nats_url)
    await provision_streams(client.jetstream())
    yield client
    await client.close()
