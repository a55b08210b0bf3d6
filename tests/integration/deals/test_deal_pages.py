"""The deals' reads of one statement each, through gRPC over real PostgreSQL: a page of
deals (and one deal) with their links and next activities answers what the deals' read plus
a read of their links and one of their activities answered; a timeline read with its deal's
visibility answers as the deal's read followed by the entries' did (not found for a deal the
caller does not see, an empty page for a deal without entries)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from dealflow.deals.v1 import deals_pb2 as pb
from dealflow.deals.v1 import deals_pb2_grpc as pb_grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.errors import NotFound
from services.common.grpc_client import call
from services.common.pagination import decode_cursor
from services.deals import activities_repository, deal_links, repository
from services.deals.activities_api import activity_pb
from services.deals.activities_tables import activities
from services.deals.api_mappers import deal_pb
from services.deals.automation_tables import deal_links as links_table
from services.deals.domain.deals import Deal
from services.deals.repository import DealFilter
from services.deals.tables import timeline

pytestmark = pytest.mark.integration

Stub = pb_grpc.DealsServiceStub
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


async def _pipeline(stub: Stub) -> pb.Pipeline:
    request = pb.CreatePipelineRequest(
        name=f"Pages {uuid.uuid4().hex[:6]}", stages=[pb.StageInput(name="New")]
    )
    return await call(stub.CreatePipeline, request)


async def _manager(stub: Stub) -> str:
    request = pb.CreateUserRequest(
        email=f"m-{uuid.uuid4().hex[:6]}@pages.test",
        name="Manager",
        password="correct horse",
        roles=["manager"],
    )
    return str((await call(stub.CreateUser, request)).id)


async def _deals(stub: Stub, pipeline: pb.Pipeline, actor: str, n: int) -> list[int]:
    made = []
    for i in range(n):
        request = pb.CreateDealRequest(pipeline_id=pipeline.id, title=f"Deal {i}", amount="10.50")
        made.append(int((await call(stub.CreateDeal, request, actor=actor)).id))
    return made


async def _link_and_plan(engine: AsyncEngine, ids: list[int], assignee: int) -> None:
    """Links and activities of every shape the page shows: links ordered by time then by
    linked id, the earliest planned activity (a due time before none, the lower id between
    equal times), done ones never."""
    d1, d2, d3, d4, _ = ids
    hour = timedelta(hours=1)
    links = [
        (d1, d3, "created", T0),
        (d1, d2, "created", T0),
        (d1, d4, "created", T0 - hour),
        (d2, d1, "created_from", T0),
    ]
    plans = [
        (d1, "planned", T0 + 2 * hour),
        (d1, "planned", None),
        (d1, "planned", T0 + hour),
        (d1, "done", T0),
        (d2, "planned", None),
        (d3, "planned", T0),
        (d3, "planned", T0),
        (d4, "done", T0),
    ]
    async with engine.begin() as conn:
        await conn.execute(
            links_table.insert(),
            [
                {"deal_id": a, "linked_deal_id": b, "relation": r, "created_at": at}
                for a, b, r, at in links
            ],
        )
        await conn.execute(
            activities.insert(),
            [
                {"kind": "call", "status": status, "deal_id": deal, "assignee_id": assignee}
                | {"due_at": due, "subject": f"s{i}", "created_at": T0}
                for i, (deal, status, due) in enumerate(plans)
            ],
        )


async def _as_three_reads_showed(engine: AsyncEngine, deals: list[Deal]) -> list[pb.Deal]:
    """The deals as the servicer showed them before: their links and their next activities
    read after them, one query each (`links_of`, `next_of_deals`)."""
    ids = [d.id for d in deals]
    async with engine.connect() as conn:
        links = await deal_links.links_of(conn, ids)
        following = await activities_repository.next_of_deals(conn, ids)
    shown = []
    for deal in deals:
        message = deal_pb(deal)
        for linked_id, relation in links.get(deal.id, []):
            message.links.add(deal_id=str(linked_id), relation=relation)
        if deal.id in following:
            message.next_activity.CopyFrom(activity_pb(following[deal.id]))
        shown.append(message)
    return shown


async def test_a_page_of_deals_shows_their_links_and_next_activities_as_three_reads_did(
    stub: Stub, admin: pb.User, engine: AsyncEngine
) -> None:
    pipeline = await _pipeline(stub)
    ids = await _deals(stub, pipeline, admin.id, 5)
    await _link_and_plan(engine, ids, int(admin.id))
    where = DealFilter(pipeline_id=int(pipeline.id))
    pages, cursor = [], ""
    while True:
        request = pb.ListDealsRequest(pipeline_id=pipeline.id, limit=2, cursor=cursor)
        page = await call(stub.ListDeals, request, actor=admin.id)
        before = decode_cursor(cursor) if cursor else None
        async with engine.connect() as conn:
            deals = await repository.list_deals(conn, where, before_id=before, limit=2)
        assert list(page.deals) == await _as_three_reads_showed(engine, deals)
        pages.append([int(d.id) for d in page.deals])
        if not (cursor := page.next_cursor):
            break
    assert pages == [ids[:-3:-1], ids[2:0:-1], ids[:1]]
    first = await call(stub.GetDeal, pb.GetDealRequest(id=str(ids[0])), actor=admin.id)
    assert list(page.deals) == [first]
    assert [(x.deal_id, x.relation) for x in first.links] == [
        (str(ids[3]), "created"),
        (str(ids[1]), "created"),
        (str(ids[2]), "created"),
    ]
    assert first.next_activity.subject == "s2"
    for deal_id in ids:
        one = await call(stub.GetDeal, pb.GetDealRequest(id=str(deal_id)), actor=admin.id)
        async with engine.connect() as conn:
            deal = await repository.get_deal(conn, deal_id)
        assert deal is not None
        assert [one] == await _as_three_reads_showed(engine, [deal])
    with pytest.raises(NotFound):
        await call(stub.GetDeal, pb.GetDealRequest(id="999999999"), actor=admin.id)


async def test_a_page_shows_each_caller_only_the_deals_they_see(stub: Stub) -> None:
    pipeline = await _pipeline(stub)
    mine, theirs = await _manager(stub), await _manager(stub)
    (own,) = await _deals(stub, pipeline, mine, 1)
    (other,) = await _deals(stub, pipeline, theirs, 1)
    request = pb.ListDealsRequest(pipeline_id=pipeline.id)
    for actor, seen in ((mine, own), (theirs, other), (mine, own)):  # one statement shape
        page = await call(stub.ListDeals, request, actor=actor)
        assert [int(d.id) for d in page.deals] == [seen]
    with pytest.raises(NotFound):
        await call(stub.GetDeal, pb.GetDealRequest(id=str(own)), actor=theirs)


async def test_a_timeline_is_read_with_its_deal_s_visibility(
    stub: Stub, engine: AsyncEngine
) -> None:
    pipeline = await _pipeline(stub)
    owner, other = await _manager(stub), await _manager(stub)
    deal_id, bare = await _deals(stub, pipeline, owner, 2)
    for i in range(4):
        entry = pb.AddTimelineEntryRequest(deal_id=str(deal_id), kind="call", text=f"call {i}")
        await call(stub.AddTimelineEntry, entry, actor=owner)
    async with engine.begin() as conn:
        await conn.execute(timeline.delete().where(timeline.c.deal_id == bare))
        rows = await conn.execute(
            sa.select(timeline.c.id)
            .where(timeline.c.deal_id == deal_id)
            .order_by(timeline.c.id.desc())
        )
        expected = [str(r.id) for r in rows]
    assert len(expected) == 5  # created, four calls
    read, cursor = [], ""
    while True:
        request = pb.GetTimelineRequest(deal_id=str(deal_id), limit=2, cursor=cursor)
        page = await call(stub.GetTimeline, request, actor=owner)
        assert len(page.entries) <= 2
        read += [e.id for e in page.entries]
        if not (cursor := page.next_cursor):
            break
    assert read == expected
    entries = (await call(stub.GetTimeline, pb.GetTimelineRequest(deal_id=str(deal_id)))).entries
    assert [(e.kind, e.text) for e in entries[:2]] == [("call", "call 3"), ("call", "call 2")]
    assert entries[0].deal_id == str(deal_id) and entries[0].actor_id == owner
    empty = await call(stub.GetTimeline, pb.GetTimelineRequest(deal_id=str(bare)), actor=owner)
    assert not empty.entries and not empty.next_cursor
    for actor, unseen in ((other, deal_id), (other, bare), (owner, 999999999)):
        with pytest.raises(NotFound):
            await call(stub.GetTimeline, pb.GetTimelineRequest(deal_id=str(unseen)), actor=actor)
