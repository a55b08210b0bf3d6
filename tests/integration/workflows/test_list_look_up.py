"""The admin-list look-up a step makes when it starts (PIT-3), against the real deals
service, and SM-1's proposals report over the timeline entries the process writes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from dealflow.deals.v1 import deals_pb2, deals_pb2_grpc
from temporalio.testing import ActivityEnvironment

from services.common.db import create_engine
from services.common.grpc_client import channel
from services.common.protoconv import to_struct
from services.deals.main import start_server
from services.deals.service import DealsService
from workflows.activities.services import ServiceActivities
from workflows.activities.types import AddTimelineEntryInput, ListValue, LookUpListInput

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


async def user(deals: deals_pb2_grpc.DealsServiceStub, role: str) -> Any:
    return await deals.CreateUser(
        deals_pb2.CreateUserRequest(
            email=f"{role}-{uuid.uuid4().hex[:6]}@x.test", name=role, password="pw-123456",
            roles=[role],
        )
    )  # fmt: skip


async def test_the_look_up_reads_the_list_as_it_is_now(
    deals: deals_pb2_grpc.DealsServiceStub,
) -> None:
    acts = ServiceActivities(deals, None)  # type: ignore[arg-type]
    code = f"directions_{uuid.uuid4().hex[:6]}"

    async def look_up(key: str, column: str = "operator") -> ListValue:
        value: ListValue = await ActivityEnvironment().run(
            acts.look_up_list, LookUpListInput(code, "direction", key, column)
        )
        return value

    assert await look_up("Kazan") == ListValue(list_missing=True)
    await deals.CreateList(
        deals_pb2.CreateListRequest(
            code=code,
            name="Shipping directions",
            columns=[
                deals_pb2.ListColumn(code="direction", name="Direction", type="string"),
                deals_pb2.ListColumn(code="operator", name="Operator", type="user"),
            ],
        )
    )
    first, second = await user(deals, "operator"), await user(deals, "operator")
    kazan = await deals.CreateListItem(
        deals_pb2.CreateListItemRequest(
            code=code, values=to_struct({"direction": "Kazan", "operator": first.id})
        )
    )
    await deals.CreateListItem(
        deals_pb2.CreateListItemRequest(code=code, values=to_struct({"direction": "Omsk"}))
    )
    assert await look_up("Kazan") == ListValue(str(first.id))
    assert await look_up("Omsk") == ListValue()  # a row without an operator
    assert await look_up("Perm") == ListValue()  # no row
    await deals.UpdateListItem(
        deals_pb2.UpdateListItemRequest(
            code=code, id=kazan.id, values=to_struct({"direction": "Kazan", "operator": second.id})
        )
    )
    assert await look_up("Kazan") == ListValue(str(second.id))


async def test_the_proposals_report_adds_up_the_entries_of_deals_the_caller_sees(
    deals: deals_pb2_grpc.DealsServiceStub,
) -> None:
    acts = ServiceActivities(deals, None)  # type: ignore[arg-type]
    manager, outsider = await user(deals, "manager"), await user(deals, "manager")
    pipeline = await deals.CreatePipeline(
        deals_pb2.CreatePipelineRequest(
            name="Agency",
            stages=[deals_pb2.StageInput(name="Proposal sent", semantic="in_progress")],
        )
    )

    async def proposal(title: str, *outcomes: tuple[str, str]) -> str:
        deal = await deals.CreateDeal(
            deals_pb2.CreateDealRequest(
                pipeline_id=pipeline.id, title=title, responsible_id=manager.id
            )
        )
        workflow_id = f"deal-{deal.id}/proposal-follow-up/1"
        for kind, reason in [("proposal.sent", ""), *outcomes]:
            data = {"workflow_id": workflow_id, "manager_id": manager.id, "reason": reason}
            await ActivityEnvironment().run(
                acts.add_timeline_entry,
                AddTimelineEntryInput(f"{workflow_id}/{kind}", deal.id, kind, kind, data),
            )
        return str(deal.id)

    await proposal("Billboards", ("proposal.agreed", ""))
    refused = await proposal("Flyers", ("proposal.refused", "Too expensive"))
    await proposal("Posters")
    today = datetime.now(UTC).date().isoformat()
    request = deals_pb2.GetProposalReportRequest(
        date_from=today, date_to=today, manager_id=manager.id
    )
    for actor in (manager.id, None):  # the manager sees their own; the system sees all
        metadata = (("x-actor-id", actor),) if actor else ()
        (row,) = (await deals.GetProposalReport(request, metadata=metadata)).rows
        assert (row.manager_id, row.sent, row.agreed, row.refused, row.pending) == (
            manager.id, 3, 1, 1, 1,
        )  # fmt: skip
        assert [(r.deal_id, r.reason) for r in row.refusals] == [(refused, "Too expensive")]
    hidden = await deals.GetProposalReport(request, metadata=(("x-actor-id", outsider.id),))
    assert list(hidden.rows) == []
