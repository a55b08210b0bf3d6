"""Two deals replicas over one database: a pipeline one of them changed is read again by
the other (NOTIFY deals_pipelines), and a move sees the change."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from dealflow.deals.v1 import deals_pb2 as pb
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.errors import ValidationFailed
from services.deals.service import DealsService
from tests.e2e.conftest import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def replicas(engine: AsyncEngine) -> AsyncIterator[tuple[DealsService, DealsService]]:
    pair = DealsService(engine), DealsService(engine)
    stop = asyncio.Event()
    listeners = [asyncio.create_task(r.pipelines.cache.listen(engine, stop)) for r in pair]

    async def listening() -> bool:
        return all(r.pipelines.cache.listening for r in pair)

    await eventually(listening, what="both caches listening")
    yield pair
    stop.set()
    for task in listeners:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_change_on_one_replica_reaches_the_others_cache(
    engine: AsyncEngine, replicas: tuple[DealsService, DealsService], admin: pb.User
) -> None:
    a, b = replicas
    stages = [("One", "in_progress"), ("Two", "in_progress"), ("Won", "won")]
    pipeline = await a.pipelines.create_pipeline(name="Cached", stages=stages)
    one, two = pipeline.stages[0].id, pipeline.stages[1].id
    deal = await a.create_deal(
        actor_id=None,
        pipeline_id=pipeline.id,
        title="Cache",
        responsible_id=int(admin.id),
        amount="1",
        currency="EUR",
        company_name="",
        contact_name="",
        fields={},
        stage_id=one,
    )
    async with engine.connect() as conn:
        cached = await a.pipelines.cache.get(conn, pipeline.id)
        assert await a.pipelines.cache.get(conn, pipeline.id) is cached  # kept
    await b.pipelines.create_field(
        pipeline_id=pipeline.id,
        code="budget",
        name="Budget",
        type="number",
        required_on_stages=[two],
        options=[],
        list_code="",
    )

    async def fields_seen_by_a() -> bool:
        async with engine.connect() as conn:
            return bool((await a.pipelines.cache.get(conn, pipeline.id)).fields)

    await eventually(fields_seen_by_a, timeout=5, what="replica a reading the new field")
    with pytest.raises(ValidationFailed) as err:  # the field is required on stage two
        await a.move_deal(
            actor_id=None,
            deal_id=deal.id,
            stage_id=two,
            expected_version=deal.version,
            comment="",
            pipeline_id=None,
        )
    assert err.value.problems[0].field.endswith("budget")
