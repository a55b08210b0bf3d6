"""Automation: the worker's durable consumers of deal events (`deals.deal.*`) and, a
second one (`records="lead"`), of lead events (`deals.lead.*`): the same rules engine on
both; a lead's runs are `lead-7/automation/<rule id>/<event id>`, signalled the same way.

For each event it asks the deals service (no actor: an internal call) for the active rules
of the pipeline(s) involved, picks those the event fires (workflows/automation_triggers.py)
plans each firing in the deals service (recorded in the run log: a rule whose condition
is false ends there, at the cost of one call). A run with nothing to wait for (no delay, no
task to close on leaving: workflows/automation_inline.py) it runs itself, through the
activities' action code (workflows/automation_inline_runs.py); any other run that fires is
one `automation_run` workflow per (event, rule), id
`deal-42/automation/<rule id>/<event id>` (the run log's id of every run), with the DealId
and PipelineId search attributes. A start is idempotent by that id (REJECT_DUPLICATE), and
a redelivered event finds its runs in the run log: one that ended does nothing, one begun
here is handed to its workflow at the first action not done; the worker has no database
and needs no inbox.

Before that it tells the deal's waiting runs (those the run log lists as waiting) what
happened: a stage change is signalled `deal_moved` (a run waiting on a delay of the stage
left is cancelled, tasks made to close on leaving are closed), an update `deal_changed`
with the fields changed (a delay counting from a date field is rescheduled). Both calls
are skipped in the common case: the rules are kept under the pipeline's rules version the
event carries, the runs are asked for only when the event's record has one waiting
(workflows/trigger_caches.py). The message is
acked after every rule was handled, nak'ed on a transient error (gRPC or Temporal
unavailable) and terminated when it is malformed.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from dealflow.deals.v1 import automation_pb2, automation_pb2_grpc, deals_pb2, deals_pb2_grpc
from nats.js import JetStreamContext
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from services.common.errors import DomainError, NotFound
from services.common.events import Envelope
from services.common.faults import fault_point
from services.common.grpc_client import call
from services.common.nats import EventConsumer
from services.common.protoconv import from_struct
from workflows.activities.automation import AutomationActivities
from workflows.activities.automation_types import (
    DEAL_CHANGED_SIGNAL,
    DEAL_MOVED_SIGNAL,
    WORKFLOW,
    AutomationInput,
    DealChanged,
    DealMoved,
)
from workflows.api import DEFAULT_TASK_QUEUE
from workflows.automation import workflow_id
from workflows.automation_inline import FINAL, done_before, why_not_inline
from workflows.automation_inline_runs import InlineRuns
from workflows.automation_triggers import (
    EVENTS,
    LEAD_EVENTS,
    STAGE_CHANGED,
    UPDATED,
    DealEvent,
    Firing,
    Rule,
    firings,
)
from workflows.kit.contracts import DEAL_ID, PIPELINE_ID
from workflows.run_ends import RunEnds
from workflows.trigger_caches import RecentPlans, RulesCache

log = logging.getLogger(__name__)

STREAM = "DEALS"
SUBJECTS = "deals.deal.>"  # services/deals/events.py
LEAD_SUBJECTS = "deals.lead.>"  # services/deals/crm_events.py
DURABLE = "worker-triggers"
LEAD_DURABLE = "worker-lead-triggers"
WAITING = frozenset({"scheduled", "waiting_leave"})


def rule_of(msg: deals_pb2.Rule) -> Rule:
    definition = from_struct(msg.definition)
    return Rule(
        id=msg.id,
        pipeline_id=msg.pipeline_id,
        version=msg.version,
        trigger=definition.get("trigger", {}),
        active=msg.active,
    )


class Triggers(EventConsumer):
    """The consumer: deal events (with `records="lead"`, lead events) in, automation runs
    (and signals to them) out."""

    def __init__(
        self,
        *,
        js: JetStreamContext,
        temporal: Client,
        deals: deals_pb2_grpc.DealsServiceStub,
        automation: automation_pb2_grpc.AutomationServiceStub,
        task_queue: str = DEFAULT_TASK_QUEUE,
        durable: str = "",
        timeout: float = 10.0,
        records: str = "deal",
        actions: AutomationActivities | None = None,
        ends: RunEnds | None = None,
        run_wait: float = 10.0,
    ) -> None:
        """`actions`: the automation activities' code, to run a run with nothing to wait
        for here (without, every run that fires is a workflow). `ends`: told of the end
        of the runs this process's worker runs (the activities' own, workflows/run_ends.py):
        with it, a run with nothing to wait for that started eagerly is waited for, at
        most `run_wait` seconds, before the next rule or event."""
        leads = records == "lead"
        super().__init__(
            js=js,
            stream=STREAM,
            durable=durable or (LEAD_DURABLE if leads else DURABLE),
            filter_subject=LEAD_SUBJECTS if leads else SUBJECTS,
        )
        self._temporal, self._deals, self._automation = temporal, deals, automation
        self._task_queue, self._timeout = task_queue, timeout
        self._inline = None if actions is None else InlineRuns(actions)
        self._ends, self._run_wait = ends, run_wait
        self._rules_cache, self._planned = RulesCache(), RecentPlans()

    async def apply(self, event: Envelope) -> None:
        if event.type not in EVENTS and event.type not in LEAD_EVENTS:
            return  # an event no trigger takes
        try:
            deal_event = DealEvent.of(event)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DomainError(f"not a deal event: {exc!r}") from exc
        if deal_event.type == STAGE_CHANGED:
            moved = DealMoved(deal_event.from_stage_id, deal_event.stage_id)
            await self._signal_runs(deal_event, DEAL_MOVED_SIGNAL, moved)
        elif deal_event.type == UPDATED and deal_event.changed:
            changed = DealChanged(sorted(deal_event.changed))
            await self._signal_runs(deal_event, DEAL_CHANGED_SIGNAL, changed)
        fired = firings(deal_event, await self._rules(deal_event))
        for firing, plan in zip(fired, await self._plans(deal_event, fired), strict=True):
            if plan.get("fires"):
                await self._run(deal_event, firing, plan)

    async def _run(self, event: DealEvent, firing: Firing, plan: dict[str, Any]) -> None:
        """Run it here when it has nothing to wait for (workflows/automation_inline.py),
        else (or when an action must be retried) start its workflow, its plan in the input
        when planned just now (the workflow does not ask for it again)."""
        inline = not why_not_inline(plan)
        recorded = plan.get("recorded")
        run = replace(self._input(event, firing), plan=plan if recorded is None else None)
        if recorded is not None:  # planned before: the event came again
            if recorded.get("status") in FINAL:
                return  # that run ended: nothing to do twice
            if inline:  # begun here before: the workflow goes on after the actions done
                run = replace(run, first_action=done_before(recorded.get("steps", [])))
        elif inline and self._inline is not None:
            wid = self._run_id(event, firing)
            fault_point("worker.rule_planned_not_started")
            first = await self._inline.run(run, wid, plan)
            if first < 0:
                log.info("automation run ran inline", extra={"workflow_id": wid})
                fault_point("worker.rule_started_not_acked")
                return
            run = replace(run, first_action=first)
        await self._start(event, firing, run, wait=inline and recorded is None)

    async def _rules(self, event: DealEvent) -> list[Rule]:
        """The active rules of the event's pipeline(s): kept under the rules version the
        event names (workflows/trigger_caches.py), else asked for (and kept)."""
        rules: list[Rule] = []
        for pipeline_id in dict.fromkeys(
            p for p in (event.from_pipeline_id, event.pipeline_id) if p
        ):
            version = event.rules_versions.get(pipeline_id)
            held = self._rules_cache.get(pipeline_id, version)
            if held is None:
                request = deals_pb2.ListRulesRequest(pipeline_id=pipeline_id, active_only=True)
                reply = await call(self._deals.ListRules, request, timeout=self._timeout)
                held = tuple(rule_of(r) for r in reply.rules)
                self._rules_cache.put(pipeline_id, version, held)
            rules.extend(held)
        return rules

    async def _signal_runs(self, event: DealEvent, signal: str, arg: Any) -> None:
        """Tell the deal's (the lead's) waiting runs (from the run log: a run waits on a
        delay while `scheduled`, on a move while `waiting_leave`). A run the log does not
        list yet looks at the record itself when its timer fires.

        Not asked when none can wait: the event says its record had no waiting run under
        the lock of its transaction (a run that waits later reads the record after it) and
        this consumer planned no run on it since (see workflows/trigger_caches.py)."""
        if event.waiting_runs == 0 and not self._planned_since(event):
            return
        request = automation_pb2.ListRunsRequest(**_record(event), limit=200, waiting_only=True)
        reply = await call(self._automation.ListRuns, request, timeout=self._timeout)
        for run in map(from_struct, reply.runs):
            if run.get("status") not in WAITING:
                continue
            try:
                await self._temporal.get_workflow_handle(run["workflow_id"]).signal(signal, arg)
            except RPCError:  # it ended meanwhile: nothing to tell it
                log.info(
                    "automation run ended before the signal",
                    extra={"workflow_id": run["workflow_id"]},
                )

    def _planned_since(self, event: DealEvent) -> bool:
        published = event.published
        if published is None or published.tzinfo is None:
            return True  # no time to compare with: ask
        return self._planned.since(event.record, event.deal_id, published)

    @staticmethod
    def _input(event: DealEvent, firing: Firing) -> AutomationInput:
        lead = event.record == "lead"
        return AutomationInput(
            deal_id="" if lead else event.deal_id,
            lead_id=event.deal_id if lead else "",
            pipeline_id=firing.rule.pipeline_id,
            rule_id=firing.rule.id,
            rule_version=firing.rule.version,
            event_id=event.event_id,
            why=firing.why,
            initiator_id=event.initiator_id,
        )

    async def _start(
        self, event: DealEvent, firing: Firing, run: AutomationInput, *, wait: bool = False
    ) -> None:
        """Start the run's workflow; `wait` (a run with nothing to wait for): until it
        ended, when it started eagerly in this process and the triggers know its end."""
        rule = firing.rule
        wid = self._run_id(event, firing)
        extra = {f"{event.record}_id": event.deal_id, "rule_id": rule.id, "workflow_id": wid}
        attributes = [SearchAttributePair(PIPELINE_ID, rule.pipeline_id)]
        if event.record != "lead":
            attributes.insert(0, SearchAttributePair(DEAL_ID, event.deal_id))
        fault_point("worker.rule_planned_not_started")
        ends = self._ends if wait and self._run_wait > 0 else None
        if ends is not None:
            ends.expect(wid)
        try:
            try:
                # Eager: the server hands the first workflow task back with the answer to
                # this worker's own Worker (same client, same queue), not through matching.
                handle = await self._temporal.start_workflow(
                    WORKFLOW,
                    run,
                    id=wid,
                    task_queue=self._task_queue,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    search_attributes=TypedSearchAttributes(attributes),
                    static_summary=f"rule {rule.id} v{rule.version}: {firing.why}",
                    request_eager_start=True,
                )
            except WorkflowAlreadyStartedError:
                log.info("automation run started for this event already", extra=extra)
                return
            eager = bool(getattr(handle, "__temporal_eagerly_started", False))
            log.info("automation run started", extra={**extra, "why": firing.why, "eager": eager})
            if ends is not None and eager and not await ends.wait(wid, self._run_wait):
                log.warning("automation run not ended in time; going on", extra=extra)
        finally:
            if ends is not None:
                ends.forget(wid)
        fault_point("worker.rule_started_not_acked")

    async def _plans(self, event: DealEvent, fired: list[Firing]) -> list[dict[str, Any]]:
        """Plan every run the event fires, in one call (recorded in the run log under each
        run's workflow id, so a workflow's own plan is this one): each plan (`fires`). A
        rule whose condition is false (or that hit the loop bound) costs no workflow."""
        if not fired:
            return []
        request = automation_pb2.PlanRunsRequest(
            runs=[
                automation_pb2.PlanRunRequest(
                    workflow_id=self._run_id(event, f),
                    **_record(event),
                    rule_id=f.rule.id,
                    rule_version=f.rule.version,
                    event_id=event.event_id,
                    trigger=f.why,
                )
                for f in fired
            ]
        )
        try:
            reply = await call(self._automation.PlanRuns, request, timeout=self._timeout)
        except NotFound:  # the deal (the lead) is gone: nothing to run
            log.info("record gone before its runs", extra={"event_id": event.event_id})
            return [{"fires": False}] * len(fired)
        plans = [from_struct(p.plan) for p in reply.plans]
        if any(p.get("fires") and why_not_inline(p) for p in plans):
            # Runs that may wait, unknown to older events (a run with nothing to wait for
            # never waits: no later event of the record needs to ask for it).
            self._planned.note(event.record, event.deal_id, datetime.now(UTC))
        for firing, plan in zip(fired, plans, strict=True):
            if not plan.get("fires"):
                log.info(
                    "rule does not fire",
                    extra={"workflow_id": self._run_id(event, firing), "why": plan.get("reason")},
                )
        return plans

    @staticmethod
    def _run_id(event: DealEvent, firing: Firing) -> str:
        return workflow_id(event.deal_id, firing.rule.id, event.event_id, event.record)


def _record(event: DealEvent) -> dict[str, str]:
    """The request fields naming the event's record: {"deal_id"} or {"lead_id"}."""
    return {f"{event.record}_id": event.deal_id}
