"""The automation triggers against real NATS JetStream, the real deals service (in-process
gRPC, real PostgreSQL) and Temporal's test server running automation_run with its real
activities: a deal entering a stage runs the rule (in the triggers when nothing waits,
handed to its workflow when an action must be retried) and the rule's process, once,
however often its event is delivered or an activity's answer is lost."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import grpc
import nats
import pytest
from dealflow.deals.v1 import automation_pb2 as apb
from dealflow.deals.v1 import automation_pb2_grpc as apb_grpc
from dealflow.deals.v1 import deals_pb2 as pb
from dealflow.deals.v1 import deals_pb2_grpc as pb_grpc
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from deploy.local.stack import Ports, Stack
from services.common.db import create_engine
from services.common.events import Envelope
from services.common.grpc_client import call, channel
from services.common.nats import provision_streams
from services.common.outbox import OutboxRelay
from services.common.protoconv import from_struct, to_struct
from services.deals.main import start_server
from services.deals.service import DealsService
from services.deals.tables import outbox
from tests.conftest import _CLEAN_ENV
from tests.unit.workflows.fakes import start_env
from workflows.activities.automation import AutomationActivities
from workflows.api import START_KEY_MEMO
from workflows.automation import AutomationRun
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
    """The deals service, its stubs, and a relay that publishes its outbox on demand."""
    engine = create_engine(database_url)
    server, port = await start_server(DealsService(engine))
    chan = channel(f"127.0.0.1:{port}")
    stub = pb_grpc.DealsServiceStub(chan)
    stub.automation = apb_grpc.AutomationServiceStub(chan)  # type: ignore[attr-defined]
    stub.relay = OutboxRelay(engine=engine, outbox=outbox, js=js, source="deals")  # type: ignore[attr-defined]
    yield stub
    await chan.close()
    await server.stop(None)
    await engine.dispose()


class FlakyTimeline:
    """The deals stub, whose first note of a started process fails as if the service were
    down: the activity has started the process but cannot answer, so Temporal retries it."""

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


def triggers_of(
    deals: Any, js: JetStreamContext, temporal: WorkflowEnvironment, deals_stub: Any
) -> tuple[str, str, AutomationActivities, Triggers]:
    """A consumer of its own (durable, task queue) with the automation activities over
    `deals_stub`, which it runs a run with nothing to wait for through."""
    durable = f"triggers-{uuid.uuid4().hex[:8]}"
    queue = f"automation-{uuid.uuid4().hex[:8]}"
    activities = AutomationActivities(
        deals.automation,
        deals_stub,
        cast(Any, None),
        task_queue="no-worker",
        temporal=temporal.client,
    )
    triggers = Triggers(
        js=js,
        temporal=temporal.client,
        deals=deals,
        automation=deals.automation,
        task_queue=queue,
        durable=durable,
        actions=activities,
    )
    return durable, queue, activities, triggers


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


async def test_a_redelivered_stage_change_starts_one_run_and_one_process(
    deals: Any,
    js: JetStreamContext,
    temporal: WorkflowEnvironment,
    caplog: pytest.LogCaptureFixture,
) -> None:
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
        # Stored by gRPC without the gateway's check: it fails when it fires, in the run log.
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

    flaky = FlakyTimeline(deals)
    durable, queue, activities, triggers = triggers_of(deals, js, temporal, flaky)
    stop = asyncio.Event()
    async with Worker(
        temporal.client,
        task_queue=queue,
        workflows=[AutomationRun],
        activities=activities.all(),
    ):
        running = asyncio.create_task(triggers.run(stop))
        try:
            await settled(js, durable, delivered=2)
            # The outbox re-publishes the event after the duplicate window (a new Nats-Msg-Id).
            sub = await js.pull_subscribe("deals.deal.stage_changed", stream="DEALS")
            (msg,) = await sub.fetch(1, timeout=5)
            event = Envelope.from_json(msg.data)
            await js.publish(msg.subject, msg.data, headers={"Nats-Msg-Id": "republished"})
            await settled(js, durable, delivered=3)
        finally:
            stop.set()
            await running
        assert not [r for r in caplog.records if r.levelname == "ERROR"], [
            getattr(r, "error", r.getMessage()) for r in caplog.records
        ]
        # The process's note failed as if the service were down: the triggers handed the
        # run to its workflow, which went on from that action (the start found by its key).
        run_id = f"deal-{deal.id}/automation/{enter_rule.id}/{event.id}"
        assert await temporal.client.get_workflow_handle(run_id).result() == {"status": "done"}
    assert flaky.failures == 0
    # The unknown process is refused for good: recorded as failed by the triggers, no
    # workflow (nothing to retry).
    failed_id = f"deal-{deal.id}/automation/{leave_rule.id}/{event.id}"
    with pytest.raises(RPCError) as gone:
        await temporal.client.get_workflow_handle(failed_id).describe()
    assert gone.value.status == RPCStatusCode.NOT_FOUND

    workflow_id = f"deal-{deal.id}/client-onboarding/1"
    described = await temporal.client.get_workflow_handle(workflow_id).describe()
    assert await described.memo_value(START_KEY_MEMO) == f"{run_id}/0"
    with pytest.raises(RPCError) as err:
        await temporal.client.get_workflow_handle(f"deal-{deal.id}/client-onboarding/2").describe()
    assert err.value.status == RPCStatusCode.NOT_FOUND

    timeline = await call(deals.GetTimeline, pb.GetTimelineRequest(deal_id=deal.id, limit=50))
    notes = [e.text for e in timeline.entries if e.kind == "process"]
    assert notes == [f'{workflow_id} started (rule {enter_rule.id}: enter "Terms approval")']
    log = await call(deals.automation.ListRuns, apb.ListRunsRequest(deal_id=deal.id))
    runs = {r["rule_id"]: r for r in map(from_struct, log.runs)}
    assert set(runs) == {enter_rule.id, leave_rule.id}, (
        "one run per rule, the enter rule of New not"
    )
    assert runs[enter_rule.id]["status"] == "done"
    assert runs[enter_rule.id]["steps"][0]["detail"] == f"{workflow_id} started"
    (step,) = runs[leave_rule.id]["steps"]
    assert step["status"] == "failed" and "unknown process" in step["detail"]
    failed = runs[leave_rule.id]
    assert failed["status"] == "failed" and failed["reason"].startswith("action 0 failed: ")


async def _stage_changed_of(js: JetStreamContext, deal_id: str) -> Any:
    """The deal's stage_changed message in the stream (to publish it again)."""
    sub = await js.pull_subscribe("deals.deal.stage_changed", stream="DEALS")
    try:
        for msg in await sub.fetch(50, timeout=5):
            if Envelope.from_json(msg.data).data["deal"]["id"] == deal_id:
                return msg
    finally:
        await sub.unsubscribe()
    raise AssertionError(f"no stage_changed of deal {deal_id}")


async def _stream_messages(js: JetStreamContext) -> int:
    return int((await js.stream_info("DEALS")).state.messages)


async def test_a_run_with_nothing_to_wait_for_runs_inline_once_and_logs_as_a_workflow_run(
    deals: Any, js: JetStreamContext, temporal: WorkflowEnvironment
) -> None:
    """A rule whose note has no delay runs in the triggers (no workflow); beside it the same
    note after a delay of 0 s runs as a workflow: their run log entries read alike. The
    event published again makes no second note and changes neither entry."""
    admin = await call(
        deals.CreateUser,
        pb.CreateUserRequest(email="inline@x.test", password="pw-123456", roles=["admin"]),
    )
    pipeline = await call(
        deals.CreatePipeline,
        pb.CreatePipelineRequest(
            name="Inline", stages=[pb.StageInput(name="New"), pb.StageInput(name="Noted")]
        ),
    )
    noted = pipeline.stages[1].id

    def note(name: str, **more: Any) -> pb.CreateRuleRequest:
        definition = {
            "name": name,
            "trigger": {"event": "enter", "stage_id": int(noted)},
            "actions": [{"type": "add_timeline_note", "text": name}],
            **more,
        }
        return pb.CreateRuleRequest(pipeline_id=pipeline.id, definition=to_struct(definition))

    inline = await call(deals.CreateRule, note("inline"), actor=admin.id)
    timed = await call(deals.CreateRule, note("timed", delay={"seconds": 0}), actor=admin.id)
    deal = await call(
        deals.CreateDeal,
        pb.CreateDealRequest(pipeline_id=pipeline.id, title="Inline-Torg"),
        actor=admin.id,
    )
    await call(deals.MoveDeal, pb.MoveDealRequest(id=deal.id, stage_id=noted), actor=admin.id)
    while await deals.relay.publish_batch():
        pass

    durable, queue, activities, triggers = triggers_of(deals, js, temporal, deals)

    async def run_log() -> dict[str, dict[str, Any]]:
        log = await call(deals.automation.ListRuns, apb.ListRunsRequest(deal_id=deal.id))
        return {r["rule_id"]: r for r in map(from_struct, log.runs)}

    stop = asyncio.Event()
    async with Worker(
        temporal.client, task_queue=queue, workflows=[AutomationRun], activities=activities.all()
    ):
        running = asyncio.create_task(triggers.run(stop))
        try:
            await settled(js, durable, delivered=await _stream_messages(js))
            msg = await _stage_changed_of(js, deal.id)
            event_id = Envelope.from_json(msg.data).id
            timed_id = f"deal-{deal.id}/automation/{timed.id}/{event_id}"
            assert await temporal.client.get_workflow_handle(timed_id).result() == {
                "status": "done"
            }
            first = await run_log()
            await js.publish(msg.subject, msg.data, headers={"Nats-Msg-Id": "again"})
            await settled(js, durable, delivered=await _stream_messages(js))
        finally:
            stop.set()
            await running

    inline_id = f"deal-{deal.id}/automation/{inline.id}/{event_id}"
    with pytest.raises(RPCError) as err:
        await temporal.client.get_workflow_handle(inline_id).describe()
    assert err.value.status == RPCStatusCode.NOT_FOUND, "the inline run is no workflow"
    assert await run_log() == first, "the event again changed no entry"
    a, b = first[inline.id], first[timed.id]
    assert a["workflow_id"] == inline_id and b["workflow_id"] == timed_id
    assert (a["status"], b["status"]) == ("done", "done")
    assert set(a) == set(b) and [set(s) for s in a["steps"]] == [set(s) for s in b["steps"]]
    assert [(s["index"], s["type"], s["status"]) for s in a["steps"]] == [
        (0, "add_timeline_note", "done")
    ]
    assert [(s["index"], s["type"], s["status"]) for s in b["steps"]] == [
        (0, "add_timeline_note", "done")
    ]
    assert a["steps"][0]["detail"] == f"timeline note {a['steps'][0]['entry_id']}"
    assert a["created_at"] <= a["steps"][0]["at"] <= a["updated_at"]

    timeline = await call(deals.GetTimeline, pb.GetTimelineRequest(deal_id=deal.id, limit=50))
    notes = sorted(e.text for e in timeline.entries if e.kind == "note")
    assert notes == ["inline", "timed"], "one note each, however often the event came"
