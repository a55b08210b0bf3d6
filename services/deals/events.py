"""Deal domain events -> outbox events (`deals.deal.*`, subject `deal/<id>`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.common.db import PendingEvent
from services.deals.domain.deals import Deal
from services.deals.domain.events import DealCreated, DealEvent, DealStageChanged, DealUpdated
from services.deals.domain.pipelines import Pipeline

CREATED = "deals.deal.created"
UPDATED = "deals.deal.updated"
STAGE_CHANGED = "deals.deal.stage_changed"
ACTIVITY_LOGGED = "deals.deal.activity_logged"
# Timeline entries that record a touch of the client (automation's `activity_logged`).
ACTIVITY_KINDS = frozenset({"call", "email", "meeting"})
PROCESS_FINISHED = "deals.deal.process_finished"
# The timeline entry a process writes when it ends (workflows/kit: `finish(outcome)`).
FINISHED_KIND = "process_finished"


def summary(deal: Deal) -> dict[str, Any]:
    return {
        "id": str(deal.id),
        "title": deal.title,
        "pipeline_id": str(deal.pipeline_id),
        "stage_id": str(deal.stage_id),
        "responsible_id": str(deal.responsible_id),
    }


def _actor(actor_id: int | None) -> str:
    return "" if actor_id is None else str(actor_id)


def automation_facts(waiting_runs: int, pipelines: Iterable[Pipeline]) -> dict[str, Any]:
    """What lets the worker's triggers skip two calls (workflows/triggers.py): the rules
    version of each pipeline involved (`rules_versions`: {pipeline id: version}; it keeps
    a pipeline's active rules under it) and the record's number of waiting runs
    (`waiting_runs`; none: it does not ask for them). Only for a record read under its
    lock, in the transaction of the event: a run that began to wait before counts."""
    versions = {str(p.id): p.rules_version for p in pipelines}
    return {"rules_versions": versions, "waiting_runs": waiting_runs}


def to_pending(event: DealEvent, deal: Deal, pipelines: tuple[Pipeline, ...] = ()) -> PendingEvent:
    """The outbox event for a domain event of `deal` (already stored, so it has an id);
    with the `pipelines` involved (the deal read under its lock), its `automation_facts`."""
    pending = _pending(event, deal)
    if pipelines:
        pending.data |= automation_facts(deal.waiting_runs, pipelines)
    return pending


def _pending(event: DealEvent, deal: Deal) -> PendingEvent:
    subject = f"deal/{deal.id}"
    match event:
        case DealCreated(actor_id=actor_id):
            data = {"deal": summary(deal), "after": deal.attributes()}
            return PendingEvent(CREATED, subject, data, actor=_actor(actor_id))
        case DealUpdated(actor_id=actor_id, before=before, after=after):
            data = {"before": before, "after": after, "deal": summary(deal)}
            return PendingEvent(UPDATED, subject, data, actor=_actor(actor_id))
        case DealStageChanged():
            return PendingEvent(
                STAGE_CHANGED,
                subject,
                stage_changed_data(event, deal),
                actor=_actor(event.actor_id),
            )
    raise AssertionError(f"unknown deal event {event!r}")


def stage_changed_data(event: DealStageChanged, deal: Deal) -> dict[str, Any]:
    before: dict[str, Any] = {"stage_id": str(event.from_stage_id)}
    after: dict[str, Any] = {"stage_id": str(event.to_stage_id)}
    if event.from_pipeline_id != event.to_pipeline_id:
        before["pipeline_id"] = str(event.from_pipeline_id)
        after["pipeline_id"] = str(event.to_pipeline_id)
    if event.dropped_fields:
        before["fields"] = dict(event.dropped_fields)
        after["fields"] = dict.fromkeys(event.dropped_fields)
    return {
        "from_stage_id": str(event.from_stage_id),
        "to_stage_id": str(event.to_stage_id),
        "from_stage": event.from_stage,
        "to_stage": event.to_stage,
        "transition": event.transition,
        "seconds_in_previous_stage": event.seconds_in_previous_stage,
        "comment": event.comment,
        "before": before,
        "after": after,
        "deal": summary(deal),
    }


def activity_logged(
    deal: Deal, *, kind: str, text: str, entry_id: int, actor_id: int | None
) -> PendingEvent:
    """A call, e-mail or meeting recorded on the deal's timeline."""
    data = {"deal": summary(deal), "kind": kind, "text": text, "entry_id": str(entry_id)}
    return PendingEvent(ACTIVITY_LOGGED, f"deal/{deal.id}", data, actor=_actor(actor_id))


def process_finished(
    deal: Deal, *, data: dict[str, Any], entry_id: int, actor_id: int | None
) -> PendingEvent:
    """A process on the deal ended (automation's `process_finished`): which, and how."""
    body = {
        "deal": summary(deal),
        "process": str(data.get("process", "")),
        "outcome": str(data.get("outcome", "")),
        "workflow_id": str(data.get("workflow_id", "")),
        "entry_id": str(entry_id),
    }
    return PendingEvent(PROCESS_FINISHED, f"deal/{deal.id}", body, actor=_actor(actor_id))
