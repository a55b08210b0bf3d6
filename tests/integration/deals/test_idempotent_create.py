"""CreateDeal with an idempotency key: a retry, even concurrent, returns the first deal."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from dealflow.deals.v1 import deals_pb2 as pb
from dealflow.deals.v1 import deals_pb2_grpc as pb_grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.errors import ValidationFailed
from services.common.grpc_client import call
from services.deals.tables import deals
from tests.integration.deals.test_deal_flow import sales_pipeline

pytestmark = pytest.mark.integration


async def _count(engine: AsyncEngine, title: str) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(sa.select(sa.func.count()).where(deals.c.title == title)) or 0)


async def test_a_retried_create_returns_the_deal_already_made(
    stub: pb_grpc.DealsServiceStub, admin: pb.User, engine: AsyncEngine
) -> None:
    pipeline = await sales_pipeline(stub)
    title = f"Once {uuid.uuid4().hex[:6]}"
    request = pb.CreateDealRequest(pipeline_id=pipeline.id, title=title, idempotency_key="k-1")

    made = await asyncio.gather(*(call(stub.CreateDeal, request, actor=admin.id) for _ in range(5)))

    assert len({d.id for d in made}) == 1
    assert await _count(engine, title) == 1
    again = await call(stub.CreateDeal, request, actor=admin.id)
    assert again.id == made[0].id
    other = pb.CreateDealRequest(pipeline_id=pipeline.id, title=title, idempotency_key="k-2")
    assert (await call(stub.CreateDeal, other, actor=admin.id)).id != made[0].id
    plain = pb.CreateDealRequest(pipeline_id=pipeline.id, title=title)
    await call(stub.CreateDeal, plain, actor=admin.id)
    await call(stub.CreateDeal, plain, actor=admin.id)
    assert await _count(engine, title) == 4, "without a key every call creates"


async def test_a_key_of_invisible_characters_is_refused(
    stub: pb_grpc.DealsServiceStub, admin: pb.User
) -> None:
    pipeline = await sales_pipeline(stub)
    bad = pb.CreateDealRequest(pipeline_id=pipeline.id, title="x", idempotency_key="a\x00b")

    with pytest.raises(ValidationFailed) as caught:
        await call(stub.CreateDeal, bad, actor=admin.id)
    assert caught.value.problems[0].field == "idempotency_key"
