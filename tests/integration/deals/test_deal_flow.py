"""Pipeline, fields and a deal through gRPC over real PostgreSQL, and its events on NATS."""

from __future__ import annotations

import uuid

import nats
import pytest
import sqlalchemy as sa
from dealflow.deals.v1 import access_pb2 as apb
from dealflow.deals.v1 import deals_pb2 as pb
from dealflow.deals.v1 import deals_pb2_grpc as pb_grpc
from nats.js.api import ConsumerConfig, DeliverPolicy
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.db import UnitOfWork
from services.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from services.common.events import Envelope
from services.common.grpc_client import call
from services.common.nats import provision_streams
from services.common.outbox import OutboxRelay
from services.common.protoconv import from_struct, to_struct
from services.deals import repository
from services.deals.tables import outbox
from tests.integration.deals.conftest import while_moved

pytestmark = pytest.mark.integration

Stub = pb_grpc.DealsServiceStub


async def sales_pipeline(stub: Stub) -> pb.Pipeline:
    request = pb.CreatePipelineRequest(
        name=f"Sales {uuid.uuid4().hex[:6]}",
        stages=[
            pb.StageInput(name="New", semantic="in_progress"),
            pb.StageInput(name="Contract", semantic="in_progress"),
            pb.StageInput(name="Won", semantic="won"),
            pb.StageInput(name="Lost", semantic="lost"),
        ],
    )
    pipeline = await call(stub.CreatePipeline, request)
    contract = pipeline.stages[1].id
    field = pb.CreateFieldRequest(
        pipeline_id=pipeline.id,
        code="inn",
        name="INN",
        type="string",
        required_on_stages=[contract],
    )
    await call(stub.CreateField, field)
    return await call(stub.GetPipeline, pb.GetPipelineRequest(id=pipeline.id))


async def test_deal_moves_only_with_required_fields_and_publishes_the_move(
    stub: Stub, admin: pb.User, engine: AsyncEngine, nats_url: str
) -> None:
    pipeline = await sales_pipeline(stub)
    new, contract = pipeline.stages[0], pipeline.stages[1]
    assert [f.code for f in pipeline.fields] == ["inn"]

    create = pb.CreateDealRequest(pipeline_id=pipeline.id, title="Pens", amount="1500.50")
    deal = await call(stub.CreateDeal, create, actor=admin.id)
    assert (deal.stage_id, deal.responsible_id, deal.version) == (new.id, admin.id, 1)
    assert (deal.amount, deal.currency, deal.stage_semantic) == ("1500.50", "RUB", "in_progress")

    move = pb.MoveDealRequest(id=deal.id, stage_id=contract.id, comment="signed")
    with pytest.raises(ValidationFailed) as refused:
        await call(stub.MoveDeal, move, actor=admin.id)
    assert [(p.field, p.message) for p in refused.value.problems] == [
        ("fields.inn", "required on stage Contract")
    ]

    fill = pb.UpdateDealRequest(
        id=deal.id, expected_version=deal.version, fields=to_struct({"inn": "7707083893"})
    )
    filled = await call(stub.UpdateDeal, fill, actor=admin.id)
    assert filled.version == 2 and from_struct(filled.fields) == {"inn": "7707083893"}
    stale = pb.UpdateDealRequest(
        id=deal.id, expected_version=deal.version, set_fields=["title"], title="stale"
    )
    with pytest.raises(Conflict):
        await call(stub.UpdateDeal, stale, actor=admin.id)

    moved = await call(stub.MoveDeal, move, actor=admin.id)
    assert (moved.stage_id, moved.version) == (contract.id, 3)

    history = await call(stub.GetStageHistory, pb.GetStageHistoryRequest(deal_id=deal.id))
    assert [v.stage_id for v in history.visits] == [new.id, contract.id]
    assert history.visits[0].HasField("left_at") and not history.visits[1].HasField("left_at")
    assert history.visits[0].seconds_in_stage > 0

    timeline = await call(stub.GetTimeline, pb.GetTimelineRequest(deal_id=deal.id))
    assert [e.kind for e in timeline.entries] == ["stage_changed", "updated", "created"]
    assert timeline.entries[0].text == "New → Contract: signed"

    event = await published_stage_change(engine, nats_url, deal.id)
    assert event.type == "deals.deal.stage_changed" and event.actor == admin.id
    assert event.data["before"] == {"stage_id": new.id}
    assert event.data["after"] == {"stage_id": contract.id}
    assert (event.data["from_stage"], event.data["to_stage"]) == ("New", "Contract")
    assert event.data["comment"] == "signed" and event.data["seconds_in_previous_stage"] > 0
    assert event.data["deal"]["id"] == deal.id


async def published_stage_change(engine: AsyncEngine, nats_url: str, deal_id: str) -> Envelope:
    """Relay the outbox to JetStream and read the deal's stage_changed event back by id."""
    async with engine.connect() as conn:
        event_id = (
            await conn.execute(
                sa.select(outbox.c.id).where(
                    outbox.c.type == "deals.deal.stage_changed",
                    outbox.c.subject == f"deal/{deal_id}",
                )
            )
        ).scalar_one()
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await provision_streams(js)
        relay = OutboxRelay(engine=engine, outbox=outbox, js=js, source="deals")
        assert await relay.publish_batch() >= 3
        assert await relay.publish_batch() == 0, "published rows are not claimed again"
        sub = await js.pull_subscribe(
            "deals.deal.stage_changed",
            stream="DEALS",
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
        )
        for msg in await sub.fetch(200, timeout=5):
            assert msg.headers is not None
            if msg.headers.get("Nats-Msg-Id") == str(event_id):
                envelope = Envelope.from_json(msg.data)
                assert envelope.id == event_id
                return envelope
        raise AssertionError(f"event {event_id} not found on JetStream")
    finally:
        await nc.close()


async def test_bad_requests_get_clear_errors(stub: Stub, admin: pb.User) -> None:
    pipeline = await sales_pipeline(stub)
    with pytest.raises(ValidationFailed) as err:
        await call(stub.GetDeal, pb.GetDealRequest(id="abc"))
    assert err.value.problems[0].field == "id"
    with pytest.raises(NotFound):
        await call(stub.GetDeal, pb.GetDealRequest(id="999999"))
    with pytest.raises(ValidationFailed) as err:
        await call(stub.ListDeals, pb.ListDealsRequest(limit=500))
    assert err.value.problems[0].field == "limit"
    with pytest.raises(ValidationFailed) as err:
        await call(stub.ListDeals, pb.ListDealsRequest(cursor="!!"))
    assert err.value.problems[0].field == "cursor"
    bad_money = pb.CreateDealRequest(
        pipeline_id=pipeline.id, title="x", fields=to_struct({"nope": 1}), amount="12,5"
    )
    with pytest.raises(ValidationFailed) as err:
        await call(stub.CreateDeal, bad_money, actor=admin.id)
    assert sorted(p.field for p in err.value.problems) == ["amount", "fields.nope"]
    no_one = pb.CreateDealRequest(pipeline_id=pipeline.id, title="x")
    with pytest.raises(ValidationFailed) as err:
        await call(stub.CreateDeal, no_one)
    assert err.value.problems[0].field == "responsible_id"

    deal = await call(
        stub.CreateDeal, pb.CreateDealRequest(pipeline_id=pipeline.id, title="x"), actor=admin.id
    )
    same = pb.MoveDealRequest(id=deal.id, stage_id=pipeline.stages[0].id)
    with pytest.raises(ValidationFailed):
        await call(stub.MoveDeal, same, actor=admin.id)
    stale = pb.MoveDealRequest(id=deal.id, stage_id=pipeline.stages[3].id, expected_version=7)
    with pytest.raises(Conflict):
        await call(stub.MoveDeal, stale, actor=admin.id)
    unknown = pb.UpdateDealRequest(id=deal.id, set_fields=["version"])
    with pytest.raises(ValidationFailed) as err:
        await call(stub.UpdateDeal, unknown, actor=admin.id)
    assert err.value.problems[0].field == "version"


async def test_move_into_another_pipeline(stub: Stub, admin: pb.User) -> None:
    sales = await sales_pipeline(stub)
    service = await call(
        stub.CreatePipeline,
        pb.CreatePipelineRequest(name="Service", stages=[pb.StageInput(name="Intake")]),
    )
    deal = await call(
        stub.CreateDeal, pb.CreateDealRequest(pipeline_id=sales.id, title="x"), actor=admin.id
    )
    with pytest.raises(ValidationFailed):
        await call(stub.MoveDeal, pb.MoveDealRequest(id=deal.id, stage_id=service.stages[0].id))
    across = pb.MoveDealRequest(id=deal.id, stage_id=service.stages[0].id, pipeline_id=service.id)
    moved = await call(stub.MoveDeal, across, actor=admin.id)
    assert (moved.pipeline_id, moved.stage_id) == (service.id, service.stages[0].id)


async def test_list_deals_filters_and_pages_newest_first(stub: Stub, admin: pb.User) -> None:
    pipeline = await sales_pipeline(stub)
    ids = []
    for title in ("Alpha pens", "Beta 100% paper", "Gamma pens"):
        deal = await call(
            stub.CreateDeal,
            pb.CreateDealRequest(pipeline_id=pipeline.id, title=title, company_name="Acme"),
            actor=admin.id,
        )
        ids.append(deal.id)
    first = await call(stub.ListDeals, pb.ListDealsRequest(pipeline_id=pipeline.id, limit=2))
    assert [d.id for d in first.deals] == [ids[2], ids[1]] and first.next_cursor
    rest = await call(
        stub.ListDeals,
        pb.ListDealsRequest(pipeline_id=pipeline.id, limit=2, cursor=first.next_cursor),
    )
    assert [d.id for d in rest.deals] == [ids[0]] and not rest.next_cursor
    found = await call(stub.ListDeals, pb.ListDealsRequest(pipeline_id=pipeline.id, q="PENS"))
    assert [d.id for d in found.deals] == [ids[2], ids[0]]
    percent = await call(stub.ListDeals, pb.ListDealsRequest(pipeline_id=pipeline.id, q="0%"))
    assert [d.id for d in percent.deals] == [ids[1]]
    by_stage = pb.ListDealsRequest(
        stage_id=pipeline.stages[1].id, responsible_id=admin.id, pipeline_id=pipeline.id
    )
    assert not (await call(stub.ListDeals, by_stage)).deals


async def test_timeline_entry_with_a_key_is_added_once(stub: Stub, admin: pb.User) -> None:
    pipeline = await sales_pipeline(stub)
    deal = await call(
        stub.CreateDeal, pb.CreateDealRequest(pipeline_id=pipeline.id, title="x"), actor=admin.id
    )
    key = f"deal-{deal.id}/sample-return/1:task"
    request = pb.AddTimelineEntryRequest(
        deal_id=deal.id,
        kind="task",
        text="Task created",
        data=to_struct({"n": 1}),
        idempotency_key=key,
    )
    first = await call(stub.AddTimelineEntry, request, actor=admin.id)
    again = await call(stub.AddTimelineEntry, request, actor=admin.id)
    assert first.id == again.id and from_struct(again.data) == {"n": 1}
    note = await call(
        stub.AddTimelineEntry, pb.AddTimelineEntryRequest(deal_id=deal.id, text="call back")
    )
    assert note.kind == "note" and note.actor_id == ""
    timeline = await call(stub.GetTimeline, pb.GetTimelineRequest(deal_id=deal.id))
    assert [e.kind for e in timeline.entries] == ["note", "task", "created"]
    with pytest.raises(ValidationFailed):
        await call(
            stub.AddTimelineEntry, pb.AddTimelineEntryRequest(deal_id=deal.id, kind="created")
        )


async def test_pipeline_structure(stub: Stub) -> None:
    pipeline = await sales_pipeline(stub)
    grown = await call(
        stub.AddStage,
        pb.AddStageRequest(pipeline_id=pipeline.id, stage=pb.StageInput(name="Offer"), position=1),
    )
    assert [s.name for s in grown.stages] == ["New", "Offer", "Contract", "Won", "Lost"]
    assert [s.position for s in grown.stages] == [0, 1, 2, 3, 4]
    appended = await call(
        stub.AddStage,
        pb.AddStageRequest(pipeline_id=pipeline.id, stage=pb.StageInput(name="Archive")),
    )
    assert appended.stages[-1].name == "Archive"
    dup = pb.CreateFieldRequest(pipeline_id=pipeline.id, code="inn", type="string")
    with pytest.raises(ValidationFailed) as err:
        await call(stub.CreateField, dup)
    assert err.value.problems[0].field == "code"
    listed = await call(stub.ListPipelines, pb.ListPipelinesRequest())
    assert pipeline.id in [p.id for p in listed.pipelines]


async def test_a_role_that_may_not_change_deals_adds_nothing_to_a_timeline(
    stub: Stub, admin: pb.User
) -> None:
    pipeline = await sales_pipeline(stub)
    deal = await call(
        stub.CreateDeal, pb.CreateDealRequest(pipeline_id=pipeline.id, title="x"), actor=admin.id
    )
    role = apb.Role(code="looker", name="Looker", visibility="all", permissions=[])
    await call(stub.PutRole, apb.PutRoleRequest(role=role))
    looker = await call(
        stub.CreateUser,
        pb.CreateUserRequest(
            email="looker@flow.test", name="Looker", password="long enough", roles=["looker"]
        ),
    )
    note = pb.AddTimelineEntryRequest(deal_id=deal.id, kind="call", text="called")
    with pytest.raises(PermissionDenied):
        await call(stub.AddTimelineEntry, note, actor=looker.id)
    assert await call(stub.AddTimelineEntry, note, actor=admin.id)
    timeline = await call(stub.GetTimeline, pb.GetTimelineRequest(deal_id=deal.id))
    assert [e.kind for e in timeline.entries] == ["call", "created"]


async def test_a_process_that_ends_tells_the_deal_s_rules(
    engine: AsyncEngine, stub: Stub, admin: pb.User
) -> None:
    """The process kit's last timeline entry (kind process_finished, written without a user)
    emits deals.deal.process_finished in the same transaction, with the process and outcome;
    a retry with its key emits nothing more."""
    pipeline = await sales_pipeline(stub)
    deal = await call(
        stub.CreateDeal, pb.CreateDealRequest(pipeline_id=pipeline.id, title="x"), actor=admin.id
    )
    request = pb.AddTimelineEntryRequest(
        deal_id=deal.id,
        kind="process_finished",
        text="contract_approval finished: signed",
        data=to_struct({"process": "contract_approval", "outcome": "signed", "workflow_id": "w"}),
        idempotency_key=f"deal-{deal.id}/contract-approval/1/finished",
    )
    await call(stub.AddTimelineEntry, request)
    await call(stub.AddTimelineEntry, request)
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(outbox.c.data).where(
                    outbox.c.type == "deals.deal.process_finished",
                    outbox.c.subject == f"deal/{deal.id}",
                )
            )
        ).all()
    assert len(rows) == 1
    (data,) = rows[0]
    assert (data["process"], data["outcome"], data["deal"]["id"]) == (
        "contract_approval",
        "signed",
        deal.id,
    )


async def test_a_change_waiting_on_a_concurrent_move_sees_the_moved_deal(
    stub: Stub, admin: pb.User, engine: AsyncEngine
) -> None:
    """A PATCH that waits for a move's lock finds the deal afterwards (it answered 'not found'
    when the locked read joined the deal to its stage)."""
    pipeline = await sales_pipeline(stub)
    won = pipeline.stages[2]
    create = pb.CreateDealRequest(pipeline_id=pipeline.id, title="Racing")
    deal = await call(stub.CreateDeal, create, actor=admin.id)
    change = pb.UpdateDealRequest(
        id=deal.id, expected_version=deal.version + 1, set_fields=["title"], title="Raced"
    )
    changed = await while_moved(
        engine, "deals", deal.id, won.id, call(stub.UpdateDeal, change, actor=admin.id)
    )
    assert (changed.title, changed.stage_id, changed.stage_semantic) == ("Raced", won.id, "won")


async def test_a_move_waiting_on_a_concurrent_move_moves_on_from_the_moved_deal(
    stub: Stub, admin: pb.User, engine: AsyncEngine
) -> None:
    """The move's locked read goes with its BEGIN (`UnitOfWork.read_at_begin`): it still
    waits for the other move's lock, then reads the deal as that move left it."""
    pipeline = await sales_pipeline(stub)
    new, won, lost = pipeline.stages[0], pipeline.stages[2], pipeline.stages[3]
    create = pb.CreateDealRequest(pipeline_id=pipeline.id, title="Racing")
    deal = await call(stub.CreateDeal, create, actor=admin.id)
    move = pb.MoveDealRequest(id=deal.id, stage_id=lost.id, expected_version=deal.version)
    with pytest.raises(Conflict):  # the version it expected is gone by the time it reads
        await while_moved(
            engine, "deals", deal.id, won.id, call(stub.MoveDeal, move, actor=admin.id)
        )
    # the version the other move makes: seen only once the lock is had
    move = pb.MoveDealRequest(id=deal.id, stage_id=new.id, expected_version=deal.version + 2)
    moved = await while_moved(
        engine, "deals", deal.id, lost.id, call(stub.MoveDeal, move, actor=admin.id)
    )
    assert (moved.stage_id, moved.version) == (new.id, deal.version + 3)
    timeline = await call(stub.GetTimeline, pb.GetTimelineRequest(deal_id=deal.id))
    assert timeline.entries[0].text == "Lost → New"


async def test_the_read_sent_with_the_begin_reads_the_deal_as_sqlalchemy_does(
    stub: Stub, admin: pb.User, engine: AsyncEngine
) -> None:
    """The driver's cursor loads every column (money, JSON fields, timestamps, the stage's
    semantic) as SQLAlchemy's result does."""
    pipeline = await sales_pipeline(stub)
    fields = to_struct({"inn": "7707083893"})
    create = pb.CreateDealRequest(pipeline_id=pipeline.id, title="Pens", amount="1500.50")
    create.fields.CopyFrom(fields)
    deal = await call(stub.CreateDeal, create, actor=admin.id)
    async with UnitOfWork(engine, outbox) as uow:
        at_begin = await repository.lock_deal_at_begin(uow, int(deal.id))
        assert at_begin == await repository.get_deal(uow.conn, int(deal.id))
        assert at_begin is not None and at_begin.fields == {"inn": "7707083893"}
    async with UnitOfWork(engine, outbox) as uow:
        assert await repository.lock_deal_at_begin(uow, int(deal.id) + 1000) is None
