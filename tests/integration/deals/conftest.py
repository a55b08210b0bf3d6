"""The deals service in process: a gRPC server over a fresh database, and its stub."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

import grpc
import pytest
import sqlalchemy as sa
from dealflow.deals.v1 import automation_pb2_grpc as apb_grpc
from dealflow.deals.v1 import crm_pb2_grpc as cpb_grpc
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


Stubs = tuple[pb_grpc.DealsServiceStub, apb_grpc.AutomationServiceStub, cpb_grpc.CrmServiceStub]


@pytest.fixture(scope="module")
async def stubs(service: DealsService) -> AsyncIterator[Stubs]:
    """The deals, automation and CRM stubs on one channel to the service."""
    server, port = await start_server(service)
    chan: grpc.aio.Channel = channel(f"127.0.0.1:{port}")
    yield (
        pb_grpc.DealsServiceStub(chan),
        apb_grpc.AutomationServiceStub(chan),
        cpb_grpc.CrmServiceStub(chan),
    )
    await chan.close()
    await server.stop(None)


@pytest.fixture(scope="module")
async def admin(stub: pb_grpc.DealsServiceStub) -> pb.User:
    request = pb.CreateUserRequest(
        email="root@example.com", name="Root", password="correct horse", roles=["admin"]
    )
    return await call(stub.CreateUser, request)


T = TypeVar("T")


async def while_moved(
    engine: AsyncEngine, table: str, record_id: int | str, stage_id: int | str, change: Awaitable[T]
) -> T:
    """Run `change` while another transaction moves the record (a deal or a lead) to
    `stage_id`: the change waits for the move's row lock, then the move commits."""
    async with engine.connect() as mover:
        await mover.execute(
            sa.text(f"UPDATE deals.{table} SET stage_id = :s, version = version + 1 WHERE id = :r"),
            {"s": int(stage_id), "r": int(record_id)},
        )
        waiting = asyncio.ensure_future(change)
        await _until_waiting_on_a_lock(engine, waiting)
        await mover.commit()
    return await waiting


async def _until_waiting_on_a_lock(engine: AsyncEngine, task: asyncio.Future[object]) -> None:
    waits = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    for _ in range(1000):
        assert not task.done(), "the change did not wait for the move"
        async with engine.connect() as conn:
            if (await conn.execute(waits)).scalar_one():
                return
        await asyncio.sleep(0.01)  # polling pg_stat_activity, not waiting out a duration
    raise AssertionError("the change never waited for the move's lock")
