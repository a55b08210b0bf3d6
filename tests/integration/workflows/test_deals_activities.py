"""The deals activities against the real deals service (in-process gRPC, real PostgreSQL):
the proto mapping the workflows rely on, and that retried changes change nothing twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from dealflow.deals.v1 import deals_pb2, deals_pb2_grpc
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from services.common.db import create_engine
from services.common.grpc_client import channel
from services.common.protoconv import to_struct
from services.deals.main import start_server
from services.deals.service import DealsService
from workflows.activities.services import ServiceActivities
from workflows.activities.types import (
    AddTimelineEntryInput,
    FindHeadInput,
    GetDealInput,
    GetPipelineInput,
    GetUserInput,
    ListItemsInput,
    UpdateDealFieldsInput,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def deals(database_url: str) -> AsyncIterator[deals_pb2_grpc.DealsServiceStub]:
    engine = create_engine(database_url)
    server, port = await start_server(DealsService(engine))
    chan = channel(f"127.0.0.1:{port}")
    yield deals_pb2_grpc.DealsServiceStub(chan)
    await chan.close()
    await server.stop(None)
    await engine.dispose()


async def run(fn: Any, arg: Any) -> Any:
    return await ActivityEnvironment().run(fn, arg)


async def test_deal_activities_against_the_service(
    deals: deals_pb2_grpc.DealsServiceStub,
) -> None:
    head = await deals.CreateUser(
        deals_pb2.CreateUserRequest(
            email="head@x.test", name="Hugo Head", password="pw-123456", roles=["head_of_sales"]
        )
    )
    department = await deals.CreateDepartment(
        deals_pb2.CreateDepartmentRequest(name="Sales", head_id=head.id)
    )
    manager = await deals.CreateUser(
        deals_pb2.CreateUserRequest(
            email="maria@x.test",
            name="Maria Manager",
            password="pw-123456",
            roles=["manager"],
            department_id=department.id,
        )
    )
    pipeline = await deals.CreatePipeline(
        deals_pb2.CreatePipelineRequest(
            name="Samples", stages=[deals_pb2.StageInput(name="New", semantic="in_progress")]
        )
    )
    await deals.CreateField(
        deals_pb2.CreateFieldRequest(
            pipeline_id=pipeline.id, code="samples_returned", name="Samples returned", type="bool"
        )
    )
    deal = await deals.CreateDeal(
        deals_pb2.CreateDealRequest(
            pipeline_id=pipeline.id, title="Drills for Acme", responsible_id=manager.id
        ),
        metadata=(("x-actor-id", manager.id),),
    )
    acts = ServiceActivities(deals, None)  # type: ignore[arg-type]

    info = await run(acts.get_deal, GetDealInput(deal.id))
    assert (info.id, info.pipeline_id, info.responsible_id) == (deal.id, pipeline.id, manager.id)
    assert (
        "samples_returned"
        in (await run(acts.get_pipeline, GetPipelineInput(pipeline.id))).field_codes
    )
    found = await run(acts.find_head, FindHeadInput(manager.id))
    assert (found.id, found.name) == (head.id, "Hugo Head")
    assert (await run(acts.get_user, GetUserInput(manager.id))).name == "Maria Manager"

    entry = AddTimelineEntryInput("deal-1/sample-return/1/handed", deal.id, "Samples handed")
    first = await run(acts.add_timeline_entry, entry)
    again = await run(acts.add_timeline_entry, entry)  # a retried activity
    assert first.id == again.id
    timeline = await deals.GetTimeline(deals_pb2.GetTimelineRequest(deal_id=deal.id))
    assert [e.text for e in timeline.entries].count("Samples handed") == 1

    await run(acts.update_deal_fields, UpdateDealFieldsInput(deal.id, {"samples_returned": True}))
    updated = await deals.GetDeal(deals_pb2.GetDealRequest(id=deal.id))
    assert updated.fields["samples_returned"] is True

    with pytest.raises(ApplicationError) as missing:
        await run(acts.get_deal, GetDealInput("999999"))
    assert missing.value.type == "NotFound" and missing.value.non_retryable


async def test_list_items_reads_every_row_of_a_list_page_by_page(
    deals: deals_pb2_grpc.DealsServiceStub,
) -> None:
    columns = [deals_pb2.ListColumn(code=c, name=c, type="string") for c in ("code", "name")]
    await deals.CreateList(
        deals_pb2.CreateListRequest(code="product_types_it", name="Types", columns=columns)
    )
    for n in range(205):  # more than one page of 200
        await deals.CreateListItem(
            deals_pb2.CreateListItemRequest(
                code="product_types_it", values=to_struct({"code": f"t{n}", "name": f"Type {n}"})
            )
        )
    acts = ServiceActivities(deals, None)  # type: ignore[arg-type]
    rows = await run(acts.list_items, ListItemsInput("product_types_it"))
    assert len(rows) == 205 and {r["code"] for r in rows} == {f"t{n}" for n in range(205)}
    assert all(r["id"] for r in rows)
    with pytest.raises(ApplicationError) as missing:
        await run(acts.list_items, ListItemsInput("no_such_list"))
    assert missing.value.type == "NotFound"
