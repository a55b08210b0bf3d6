"""Stage automation: the worker's durable consumer of `deals.deal.stage_changed`.

For each stage change it asks the deals service (no actor: an internal call) for the active
rules of the pipeline(s) involved, picks those of the stage left (`leave`) and the stage
entered (`enter`), and starts each rule's process through the same path as
`POST /deals/{id}/processes` (workflows/processes.py), with the event's actor as initiator
(the deal's responsible when the system moved it).

The worker has no database, so there is no inbox: a start is idempotent by itself. The run
started for (event, rule) carries that key in its memo and keeps the readable numbered id
(`deal-42/client-onboarding/1`); a redelivered event finds the run and starts nothing.
A rule also starts nothing while a run of its process is running on the deal (e.g. an
approval chain moving the deal back into the stage that started it). The message is acked
after every rule was handled, nak'ed on a transient error (gRPC or Temporal unavailable)
and terminated when it is malformed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dealflow.deals.v1 import deals_pb2, deals_pb2_grpc
from nats.js import JetStreamContext
from temporalio.client import Client

from services.common.errors import DomainError
from services.common.events import Envelope
from services.common.grpc_client import call
from services.common.nats import EventConsumer, connect
from services.common.protoconv import from_struct, to_struct
from workflows.api import DEFAULT_TASK_QUEUE, TooManyRuns, start_process_once

log = logging.getLogger(__name__)

STREAM = "DEALS"
STAGE_CHANGED = "deals.deal.stage_changed"  # services/deals/events.py
DURABLE = "worker-triggers"


@dataclass(frozen=True)
class StageChange:
    """What a trigger needs of a `deals.deal.stage_changed` event."""

    event_id: str
    deal_id: str
    initiator_id: str  # the actor, or the deal's responsible for a system move
    from_pipeline_id: str
    from_stage_id: str
    from_stage: str
    to_pipeline_id: str
    to_stage_id: str
    to_stage: str

    @classmethod
    def of(cls, event: Envelope) -> StageChange:
        """KeyError, TypeError or ValueError when the event lacks what a stage change has."""
        data, deal = event.data, event.data["deal"]
        to_pipeline = str(deal["pipeline_id"])
        return cls(
            event_id=str(event.id),
            deal_id=str(deal["id"]),
            initiator_id=event.actor or str(deal["responsible_id"]),
            from_pipeline_id=str(data.get("before", {}).get("pipeline_id") or to_pipeline),
            from_stage_id=str(data["from_stage_id"]),
            from_stage=str(data.get("from_stage", "")),
            to_pipeline_id=to_pipeline,
            to_stage_id=str(data["to_stage_id"]),
            to_stage=str(data.get("to_stage", "")),
        )


@dataclass(frozen=True)
class Rule:
    """A stage rule as the deals service answers it (deals_pb2.Rule)."""

    id: str
    pipeline_id: str
    stage_id: str
    event: str  # enter | leave
    process: str
    params: dict[str, Any]
    active: bool = True

    @classmethod
    def of(cls, msg: deals_pb2.Rule) -> Rule:
        return cls(
            msg.id, msg.pipeline_id, msg.stage_id, msg.event, msg.process,
            from_struct(msg.params), msg.active,
        )  # fmt: skip


@dataclass(frozen=True)
class Firing:
    """A rule that fires for a stage change, and why."""

    rule: Rule
    why: str  # e.g. `enter "Terms approval"`

    def start_key(self, change: StageChange) -> str:
        return f"{change.event_id}/rule-{self.rule.id}"


def firing_rules(change: StageChange, rules: Iterable[Rule]) -> list[Firing]:
    """The active rules the change fires: those leaving the stage left, then those entering
    the stage entered, each group in the rules' order."""
    rules = [r for r in rules if r.active]
    left = (change.from_pipeline_id, change.from_stage_id)
    entered = (change.to_pipeline_id, change.to_stage_id)
    if left == entered:
        return []
    leaving = [
        Firing(r, f'leave "{change.from_stage or change.from_stage_id}"')
        for r in rules
        if r.event == "leave" and (r.pipeline_id, r.stage_id) == left
    ]
    entering = [
        Firing(r, f'enter "{change.to_stage or change.to_stage_id}"')
        for r in rules
        if r.event == "enter" and (r.pipeline_id, r.stage_id) == entered
    ]
    return leaving + entering


class Triggers(EventConsumer):
    """The consumer: stage changes in, process starts out."""

    def __init__(
        self,
        *,
        js: JetStreamContext,
        temporal: Client,
        deals: deals_pb2_grpc.DealsServiceStub,
        task_queue: str = DEFAULT_TASK_QUEUE,
        durable: str = DURABLE,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(js=js, stream=STREAM, durable=durable, filter_subject=STAGE_CHANGED)
        self._temporal, self._deals = temporal, deals
        self._task_queue, self._timeout = task_queue, timeout

    async def apply(self, event: Envelope) -> None:
        try:
            change = StageChange.of(event)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DomainError(f"not a stage change: {exc!r}") from exc
        for firing in firing_rules(change, await self._rules(change)):
            await self._fire(change, firing)

    async def _rules(self, change: StageChange) -> list[Rule]:
        rules: list[Rule] = []
        for pipeline_id in dict.fromkeys((change.from_pipeline_id, change.to_pipeline_id)):
            request = deals_pb2.ListRulesRequest(pipeline_id=pipeline_id, active_only=True)
            reply = await call(self._deals.ListRules, request, timeout=self._timeout)
            rules.extend(Rule.of(r) for r in reply.rules)
        return rules

    async def _fire(self, change: StageChange, firing: Firing) -> None:
        rule, key = firing.rule, firing.start_key(change)
        reason = f"rule {rule.id}: {firing.why}"
        try:
            result = await start_process_once(
                self._temporal,
                process=rule.process,
                params=rule.params,
                initiator_id=change.initiator_id,
                deal_id=change.deal_id,
                pipeline_id=change.to_pipeline_id,
                task_queue=self._task_queue,
                start_key=key,
                unless_running=True,
                summary=f"started by {reason}",
            )
        except (ValueError, TooManyRuns) as exc:  # the rule's fault: retrying cannot help
            log.warning(
                "rule did not start its process",
                extra={"deal_id": change.deal_id, "rule_id": rule.id, "error": str(exc)},
            )
            await self._note(change, rule, key, f"{rule.process} not started ({reason}): {exc}")
            return
        extra = {
            "deal_id": change.deal_id,
            "rule_id": rule.id,
            "process_name": rule.process,  # `process` is taken by the LogRecord
            "workflow_id": result.workflow_id,
            "event_id": change.event_id,
            "why": firing.why,
        }
        if result.reason == "running":
            log.info("rule's process already running on the deal; nothing started", extra=extra)
            return
        if result.started:
            log.info("rule started a process", extra=extra)
        else:  # redelivered: the run exists; the note may not (its call failed last time)
            log.info("rule's process was started for this event already", extra=extra)
        await self._note(change, rule, key, f"{result.workflow_id} started ({reason})")

    async def _note(self, change: StageChange, rule: Rule, key: str, text: str) -> None:
        """On the deal's timeline, once per (event, rule) however often it is delivered."""
        request = deals_pb2.AddTimelineEntryRequest(
            deal_id=change.deal_id,
            kind="process",
            text=text,
            data=to_struct({"rule_id": rule.id, "process": rule.process}),
            idempotency_key=f"trigger/{key}",
        )
        await call(self._deals.AddTimelineEntry, request, timeout=self._timeout)


async def run_triggers(
    *,
    nats_url: str,
    temporal: Client,
    deals: deals_pb2_grpc.DealsServiceStub,
    task_queue: str,
    stop: asyncio.Event,
) -> None:
    """Connect (waiting for NATS as long as it takes), consume until `stop`, drain. A
    failure restarts the consumer after a pause: the worker's workflows keep running."""
    nc = await connect(nats_url, name="worker-triggers")
    try:
        while not stop.is_set():
            consumer = Triggers(
                js=nc.jetstream(), temporal=temporal, deals=deals, task_queue=task_queue
            )
            try:
                await consumer.run(stop)
            except Exception:
                log.exception("triggers consumer failed; restarting")
                await asyncio.sleep(2.0)
    finally:
        await nc.drain()
