"""The stage triggers against real NATS JetStream, the real deals service (in-process gRPC,
real PostgreSQL) and Temporal's test server: a deal entering a stage starts the rule's
process once, however often its event is delivered."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import nats
import pytest
from dealflow.deals.v1 import deals_pb2 as pb
from dealflow.deals.v1 import deals_pb2_grpc as pb_grpc
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from deploy.local.stack import Ports, Stack
from services.common.db import create_engine
from services.common.events import Envelope
from services.common.grpc_client import call, channel
from services.common.nats import provision_streams
from services.common.outbox import OutboxRelay
from services.common.protoconv import to_struct
from services.deals.main import start_server
from services.deals.service import DealsService
from services.deals.tables import outbox
from tests.conftest import _CLEAN_ENV
from tests.unit.workflows.fakes import start_env
from workflows.api import START_KEY_MEMO
from workflows.triggers import Triggers

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def own_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A NATS of this module alone: deal events of other modules' databases (whose pipeline
    and deal ids repeat ours) must not reach these triggers."""
    data: Path = tmp_path_factory.mktemp("nats")
    stack = Stack(data, ports=Ports.free(), environ=_CLEAN_ENV, headless=True, log_dir=data)
    stack.start_infra(frozenset({"nats"}))
    yield stack.nats_url
    stack.stop()


@pytest.fixture(scope="module")
async def js(own_nats: str) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(own_nats)
    await provision_streams(nc.jetstream())
    yield nc.jetstream()
    await nc.close()


@pytest.fixture(scope="module")
async def temporal() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_env()
    yield env
    await env.shutdown()


@pytest.fixture(scope="module")
async def deals(database_url: str, js: JetStreamContext) -> AsyncIterator[Any]:
    """The deals service, its stub, and a relay that publishes its outbox on demand."""
    engine = create_engine(database_url)
    server, port = await start_server(DealsService(engine))
    chan = channel(f"127.0.0.1:{port}")
    stub = pb_grpc.DealsServiceStub(chan)
    stub.relay = OutboxRelay(engine=engine, outbox=outbox, js=js, source="deals")  # type: ignore[attr-defined]
    yield stub
    await chan.close()
    await server.stop(None)
    await engine.dispose()


class FlakyTimeline:
    """The deals stub, whose first note of a started process fails as if the service were
    down: the trigger has started the process but cannot ack, so JetStream delivers the
    event again."""

    def __init__(self, stub: Any) -> None:
        self._stub = stub
        self.failures = 1

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._stub, name)
        if name != "AddTimelineEntry":
            return method

        async def flaky(request: Any, **kwargs: Any) -> Any:
            if self.failures and request.text.startswith("deal-"):
                self.failures -= 1
                empty = grpc.aio.Metadata()
                raise grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, empty, empty, "down")
            return await method(request, **kwargs)

        return flaky


async def settled(js: JetStreamContext, durable: str, delivered: int) -> None:
    """Until the consumer has had `delivered` deliveries and nothing waits for an ack."""
    info = None
    for _ in range(200):
        with contextlib.suppress(NotFoundError):  # until the consumer provisions itself
            info = await js.consumer_info("DEALS", durable)
            if info.num_ack_pending == 0 and info.num_pending == 0:
                if info.delivered.consumer_seq >= delivered:
                    return
        await asyncio.sleep(0.05)
    raise AssertionError(f"consumer {durable} did not settle: {info}")


async def test_a_redelivered_stage_change_starts_one_process(
    deals: Any,
    js: JetStreamContext,
    temporal: WorkflowEnvironment,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="workflows.triggers")
    admin = await call(
        deals.CreateUser,
        pb.CreateUserRequest(email="root@x.test", password="pw-123456", roles=["admin"]),
    )
    pipeline = await call(
        deals.CreatePipeline,
        pb.CreatePipelineRequest(
            name="New clients",
            stages=[pb.StageInput(name="New"), pb.StageInput(name="Terms approval")],
        ),
    )
    new, terms = (s.id for s in pipeline.stages)
    rules = [
        pb.CreateRuleRequest(
            pipeline_id=pipeline.id,
            stage_id=terms,
            event="enter",
            process="client_onboarding",
            params=to_struct({"template": "onboarding"}),
        ),
        # Stored by gRPC without the gateway's check: refused when it fires, on the timeline.
        pb.CreateRuleRequest(pipeline_id=pipeline.id, stage_id=new, event="leave", process="nope"),
        pb.CreateRuleRequest(
            pipeline_id=pipeline.id, stage_id=new, event="enter", process="sample_return"
        ),
    ]
    enter_rule, leave_rule, _ = [await call(deals.CreateRule, r, actor=admin.id) for r in rules]
    deal = await call(
        deals.CreateDeal,
        pb.CreateDealRequest(pipeline_id=pipeline.id, title="Instrument-Torg"),
        actor=admin.id,
    )
    move = pb.MoveDealRequest(id=deal.id, stage_id=terms)
    await call(deals.MoveDeal, move, actor=admin.id)
    assert await deals.relay.publish_batch() == 2  # created, stage_changed

    durable = f"triggers-{uuid.uuid4().hex[:8]}"
    flaky = FlakyTimeline(deals)
    triggers = Triggers(
        js=js, temporal=temporal.client, deals=flaky, task_queue="no-worker", durable=durable
    )
    stop = asyncio.Event()
    running = asyncio.create_task(triggers.run(stop))
    try:
        await settled(js, durable, delivered=2)  # the first delivery was nak'ed
        assert flaky.failures == 0
        # The outbox re-publishes the event after the duplicate window (a new Nats-Msg-Id).
        sub = await js.pull_subscribe("deals.deal.stage_changed", stream="DEALS")
        (msg,) = await sub.fetch(1, timeout=5)
        event = Envelope.from_json(msg.data)
        await js.publish(msg.subject, msg.data, headers={"Nats-Msg-Id": "republished"})
        await settled(js, durable, delivered=3)
    finally:
        stop.set()
        await running

    workflow_id = f"deal-{deal.id}/client-onboarding/1"
    described = await temporal.client.get_workflow_handle(workflow_id).describe()
    assert await described.memo_value(START_KEY_MEMO) == f"{event.id}/rule-{enter_rule.id}"
    with pytest.raises(RPCError) as err:
        await temporal.client.get_workflow_handle(f"deal-{deal.id}/client-onboarding/2").describe()
    assert err.value.status == RPCStatusCode.NOT_FOUND
    started = await temporal.client.get_workflow_handle(workflow_id).fetch_history()
    first = started.events[0].workflow_execution_started_event_attributes
    assert first.input.payloads, "started with the deal's process input"

    timeline = await call(deals.GetTimeline, pb.GetTimelineRequest(deal_id=deal.id, limit=50))
    notes = [e.text for e in timeline.entries if e.kind == "process"]
    assert notes.count(f'{workflow_id} started (rule {enter_rule.id}: enter "Terms approval")') == 1
    (refused,) = [n for n in notes if "nope" in n]
    assert f'rule {leave_rule.id}: leave "New"' in refused and "unknown process" in refused
    assert len(notes) == 2, "nothing for the enter rule of the stage left"
    said = [(r.getMessage(), getattr(r, "workflow_id", "")) for r in caplog.records]
    assert ("rule started a process", workflow_id) in said
    assert ("rule's process was started for this event already", workflow_id) in said
