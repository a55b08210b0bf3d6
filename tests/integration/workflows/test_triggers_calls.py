"""The triggers' two calls per event made only when needed, against real NATS JetStream, the
real deals service and Temporal's test server running automation_run: the pipeline's rules
are kept under the version its events carry (a changed rule is seen by the next event), and
the deal's waiting runs are asked for only when one can wait — a run waiting is signalled
by the move (its delay of an hour cancelled at once), a deal with none costs no call, and a
run planned after the move's event was published is asked for too."""

# ruff: noqa: F811 (the fixtures of test_triggers.py, imported, are the tests' parameters)

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import pytest
from dealflow.deals.v1 import automation_pb2 as apb
from dealflow.deals.v1 import deals_pb2 as pb
from nats.js import JetStreamContext
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.common.grpc_client import call
from services.common.protoconv import from_struct, to_struct
from tests.integration.workflows.test_triggers import (  # noqa: F401 (the fixtures)
    _stream_messages,
    deals,
    js,
    own_nats,
    settled,
    temporal,
)
from tests.unit.workflows.fakes import start_dev_env
from workflows.activities.automation import AutomationActivities
from workflows.automation import AutomationRun
from workflows.run_ends import RunEnds
from workflows.triggers import Triggers

pytestmark = pytest.mark.integration


class Counted:
    """A stub whose calls are counted by method name and the record (the deal, the
    pipeline) asked about: a new consumer reads the stream from its start, the other
    tests' events too."""

    def __init__(self, stub: Any) -> None:
        self._stub = stub
        self.calls: Counter[tuple[str, str]] = Counter()

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self._stub, name)
        if name not in ("ListRules", "ListRuns"):
            return cast(Callable[..., Awaitable[Any]], method)

        async def counted(request: Any, **kwargs: Any) -> Any:
            self.calls[(name, request.deal_id if name == "ListRuns" else request.pipeline_id)] += 1
            return await method(request, **kwargs)

        return counted


class CountedEnds(RunEnds):
    """The run ends the triggers waited for, and whether each came in time."""

    def __init__(self) -> None:
        super().__init__()
        self.waited: list[tuple[str, bool]] = []

    async def wait(self, run_id: str, timeout: float) -> bool:
        ended = await super().wait(run_id, timeout)
        self.waited.append((run_id, ended))
        return ended


@pytest.fixture(scope="module")
async def eager_temporal() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server that hands an eager start's first workflow task back with the start
    (as deploy/local/stack.py's)."""
    env = await start_dev_env(eager=True)
    yield env
    await env.shutdown()


class Consumer:
    """The triggers over counted stubs, with a worker for the runs that wait; `restart`
    makes a new consumer on the same durable (a worker restarted: it remembers nothing)."""

    def __init__(
        self,
        deals: Any,
        js: JetStreamContext,
        temporal: WorkflowEnvironment,
        *,
        inline: bool = True,
        ends: RunEnds | None = None,
    ) -> None:
        """`inline`: runs with nothing to wait for run in the triggers; else each is a
        workflow (the default mode), waited for through `ends`."""
        self.deals, self.js, self.temporal = deals, js, temporal
        self.durable = f"calls-{uuid.uuid4().hex[:8]}"
        self.queue = f"calls-{uuid.uuid4().hex[:8]}"
        self.rules, self.runs = Counted(deals), Counted(deals.automation)
        self.activities = AutomationActivities(
            deals.automation,
            deals,
            cast(Any, None),
            task_queue="none",
            temporal=temporal.client,
            ends=ends,
        )
        self.inline, self.ends = inline, ends
        self.triggers: Triggers | None = None

    async def handle(self, restart: bool = False) -> None:
        """Publish the outbox and let a consumer handle everything published."""
        while await self.deals.relay.publish_batch():
            pass
        if restart or self.triggers is None:
            self.triggers = Triggers(
                js=self.js,
                temporal=self.temporal.client,
                deals=cast(Any, self.rules),
                automation=cast(Any, self.runs),
                task_queue=self.queue,
                durable=self.durable,
                actions=self.activities if self.inline else None,
                ends=self.ends,
            )
        stop = asyncio.Event()
        running = asyncio.create_task(self.triggers.run(stop))
        try:
            await settled(self.js, self.durable, delivered=await _stream_messages(self.js))
        finally:
            stop.set()
            await running

    def worker(self) -> Worker:
        return Worker(
            self.temporal.client,
            task_queue=self.queue,
            workflows=[AutomationRun],
            activities=self.activities.all(),
        )


async def _setup(deals: Any, name: str) -> tuple[pb.User, pb.Pipeline]:
    admin = await call(
        deals.CreateUser,
        pb.CreateUserRequest(email=f"{name}@x.test", password="pw-123456", roles=["admin"]),
    )
    pipeline = await call(
        deals.CreatePipeline,
        pb.CreatePipelineRequest(
            name=name,
            stages=[
                pb.StageInput(name="New"),
                pb.StageInput(name="Wait"),
                pb.StageInput(name="Out"),
            ],
        ),
    )
    return admin, pipeline


def _rule(pipeline: pb.Pipeline, text: str, **more: Any) -> dict[str, Any]:
    return {
        "name": text,
        "trigger": {"event": "enter", "stage_id": int(pipeline.stages[1].id)},
        "actions": [{"type": "add_timeline_note", "text": text}],
        **more,
    }


async def _create_rule(
    deals: Any, admin: pb.User, pipeline: pb.Pipeline, rule: dict[str, Any]
) -> None:
    request = pb.CreateRuleRequest(pipeline_id=pipeline.id, definition=to_struct(rule))
    await call(deals.CreateRule, request, actor=admin.id)


async def _moved_deal(deals: Any, admin: pb.User, pipeline: pb.Pipeline, *stages: int) -> str:
    deal = await call(
        deals.CreateDeal,
        pb.CreateDealRequest(pipeline_id=pipeline.id, title=f"D {uuid.uuid4().hex[:4]}"),
        actor=admin.id,
    )
    for index in stages:
        move = pb.MoveDealRequest(id=deal.id, stage_id=pipeline.stages[index].id)
        await call(deals.MoveDeal, move, actor=admin.id)
    return str(deal.id)


async def _notes(deals: Any, deal_id: str) -> list[str]:
    timeline = await call(deals.GetTimeline, pb.GetTimelineRequest(deal_id=deal_id, limit=50))
    return [e.text for e in timeline.entries if e.kind == "note"]


async def _statuses(deals: Any, deal_id: str) -> list[str]:
    log = await call(deals.automation.ListRuns, apb.ListRunsRequest(deal_id=deal_id))
    return [r["status"] for r in map(from_struct, log.runs)]


async def _until_cancelled(deals: Any, deal_id: str) -> None:
    """Until the deal's one run is cancelled: at once by the signal (its delay is an hour,
    and no client waits for the run's result, so the test server does not skip time)."""
    for _ in range(100):
        if await _statuses(deals, deal_id) == ["cancelled"]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not cancelled: {await _statuses(deals, deal_id)}")


async def test_the_rules_are_kept_by_version_and_a_deal_without_waiting_runs_costs_no_call(
    deals: Any, js: JetStreamContext, temporal: WorkflowEnvironment
) -> None:
    admin, pipeline = await _setup(deals, "kept")
    rule = await call(
        deals.CreateRule,
        pb.CreateRuleRequest(pipeline_id=pipeline.id, definition=to_struct(_rule(pipeline, "one"))),
        actor=admin.id,
    )
    consumer = Consumer(deals, js, temporal)
    first = await _moved_deal(deals, admin, pipeline, 1)
    await consumer.handle()
    second = await _moved_deal(deals, admin, pipeline, 1)
    await consumer.handle()
    assert (await _notes(deals, first), await _notes(deals, second)) == (["one"], ["one"])
    assert consumer.rules.calls[("ListRules", pipeline.id)] == 1, "four events, one version"
    assert consumer.runs.calls[("ListRuns", first)] == 0, "no deal had a run waiting"
    assert consumer.runs.calls[("ListRuns", second)] == 0

    change = pb.UpdateRuleRequest(
        pipeline_id=pipeline.id,
        id=rule.id,
        set_fields=["definition"],
        definition=to_struct(_rule(pipeline, "two")),
    )
    await call(deals.UpdateRule, change, actor=admin.id)
    third = await _moved_deal(deals, admin, pipeline, 1)
    await consumer.handle()
    assert await _notes(deals, third) == ["two"], "the next event sees the changed rule"
    assert consumer.rules.calls[("ListRules", pipeline.id)] == 2
    assert consumer.runs.calls[("ListRuns", third)] == 0


async def test_a_waiting_run_is_signalled_by_the_move_its_event_counts_it_in(
    deals: Any, js: JetStreamContext, temporal: WorkflowEnvironment
) -> None:
    admin, pipeline = await _setup(deals, "waits")
    await _create_rule(deals, admin, pipeline, _rule(pipeline, "late", delay={"hours": 1}))
    consumer = Consumer(deals, js, temporal)
    async with consumer.worker():
        deal_id = await _moved_deal(deals, admin, pipeline, 1)
        await consumer.handle()
        assert await _statuses(deals, deal_id) == ["scheduled"]
        assert consumer.runs.calls[("ListRuns", deal_id)] == 0
        move = pb.MoveDealRequest(id=deal_id, stage_id=pipeline.stages[2].id)
        await call(deals.MoveDeal, move, actor=admin.id)
        await consumer.handle(restart=True)  # it remembers no plan: the event's count asks
        assert consumer.runs.calls[("ListRuns", deal_id)] == 1
        await _until_cancelled(deals, deal_id)


async def test_a_run_planned_after_the_move_s_event_was_published_is_signalled_too(
    deals: Any, js: JetStreamContext, temporal: WorkflowEnvironment
) -> None:
    """Into the stage with a delay and out again before the triggers see either: the move
    out counted no waiting run (none was planned yet), but the triggers planned one since."""
    admin, pipeline = await _setup(deals, "late")
    await _create_rule(deals, admin, pipeline, _rule(pipeline, "late", delay={"hours": 1}))
    consumer = Consumer(deals, js, temporal)
    async with consumer.worker():
        deal_id = await _moved_deal(deals, admin, pipeline, 1, 2)
        await consumer.handle()
        assert consumer.runs.calls[("ListRuns", deal_id)] == 1
        await _until_cancelled(deals, deal_id)


async def test_a_run_with_nothing_to_wait_for_ends_before_its_event_is_acked(
    deals: Any, js: JetStreamContext, eager_temporal: WorkflowEnvironment
) -> None:
    """Every run a workflow (the default mode), started eagerly in the worker of the
    triggers' process: the triggers go on once the run recorded its end, and the move out
    of the stage asks for no runs (a run with nothing to wait for never waits)."""
    admin, pipeline = await _setup(deals, "serial")
    await _create_rule(deals, admin, pipeline, _rule(pipeline, "one"))
    ends = CountedEnds()
    consumer = Consumer(deals, js, eager_temporal, inline=False, ends=ends)
    async with consumer.worker():
        deal_id = await _moved_deal(deals, admin, pipeline, 1, 2)
        await consumer.handle()
        assert await _statuses(deals, deal_id) == ["done"], "ended before the ack"
    ours = [(run, ended) for run, ended in ends.waited if run.startswith(f"deal-{deal_id}/")]
    assert len(ours) == 1 and ours[0][1], ours
    assert consumer.runs.calls[("ListRuns", deal_id)] == 0
    assert len(ends) == 0, "nothing left waited for"
