"""Which automation rules a deal event fires: plain functions over the events the deals
service publishes (`deals.deal.created`, `.updated`, `.stage_changed`, `.activity_logged`,
`.process_finished`; a lead's `deals.lead.created`, `.updated`, `.stage_changed` are read
as the deal's three, on the record "lead") and the rules' triggers
(services/deals/domain/rules.py). No I/O: the consumer (workflows/triggers.py) fetches the
rules and starts the runs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.common.events import Envelope

CREATED = "deals.deal.created"
UPDATED = "deals.deal.updated"
STAGE_CHANGED = "deals.deal.stage_changed"
ACTIVITY_LOGGED = "deals.deal.activity_logged"  # a call, e-mail or meeting on the timeline
PROCESS_FINISHED = "deals.deal.process_finished"  # a process on the deal ended (its outcome)
EVENTS = (CREATED, UPDATED, STAGE_CHANGED, ACTIVITY_LOGGED, PROCESS_FINISHED)
LEAD_EVENTS = {
    "deals.lead.created": CREATED,
    "deals.lead.updated": UPDATED,
    "deals.lead.stage_changed": STAGE_CHANGED,
}


@dataclass(frozen=True)
class DealEvent:
    """What the triggers need of a deal event (or a lead's: `record` "lead", `deal_id`
    then holds the lead's id and `type` the deal event's name of the same change)."""

    event_id: str
    type: str
    deal_id: str
    pipeline_id: str  # the deal's pipeline after the event
    stage_id: str  # the deal's stage after the event
    initiator_id: str  # the actor, or the deal's responsible for a system change
    from_pipeline_id: str = ""
    from_stage_id: str = ""
    from_stage: str = ""
    to_stage: str = ""
    activity: str = ""  # call | email | meeting, of an activity_logged
    process: str = ""  # of a process_finished: the process's name
    outcome: str = ""  # and how it ended (e.g. approved, signed, sent_to_supplier)
    changed: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)  # code: (before, after)
    record: str = "deal"  # or "lead"
    # What the deals service read under the record's lock (services/deals/events.py
    # `automation_facts`; absent from other events and from those of before): each
    # pipeline's rules version, and the number of the record's waiting runs.
    rules_versions: Mapping[str, int] = field(default_factory=dict)
    waiting_runs: int | None = None
    published: datetime | None = None  # the event's time

    @classmethod
    def of(cls, event: Envelope) -> DealEvent:
        """KeyError, TypeError or ValueError when the event lacks what it should have."""
        kind = LEAD_EVENTS.get(event.type) or event.type
        if kind not in EVENTS:
            raise ValueError(f"not a deal event the triggers take: {event.type}")
        record = "lead" if event.type in LEAD_EVENTS else "deal"
        data, deal = event.data, event.data[record]
        pipeline = str(deal["pipeline_id"])
        base: dict[str, Any] = {
            "record": record,
            "event_id": str(event.id),
            "type": kind,
            "deal_id": str(deal["id"]),
            "pipeline_id": pipeline,
            "stage_id": str(deal["stage_id"]),
            "initiator_id": event.actor or str(deal["responsible_id"]),
            "rules_versions": {
                str(p): int(v) for p, v in (data.get("rules_versions") or {}).items()
            },
            "waiting_runs": None if data.get("waiting_runs") is None else int(data["waiting_runs"]),
            "published": event.time,
        }
        if kind == STAGE_CHANGED:
            return cls(
                **base,
                from_pipeline_id=str(data.get("before", {}).get("pipeline_id") or pipeline),
                from_stage_id=str(data["from_stage_id"]),
                from_stage=str(data.get("from_stage", "")),
                to_stage=str(data.get("to_stage", "")),
            )
        if kind == ACTIVITY_LOGGED:
            return cls(**base, activity=str(data["kind"]))
        if kind == PROCESS_FINISHED:
            return cls(**base, process=str(data["process"]), outcome=str(data.get("outcome", "")))
        if kind == UPDATED:
            return cls(**base, changed=changes(data.get("before", {}), data.get("after", {})))
        return cls(**base)


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """{field code or attribute: (before, after)} of an update's before/after."""
    found: dict[str, tuple[Any, Any]] = {}
    for name in set(before) | set(after):
        if name == "fields":
            old, new = before.get("fields") or {}, after.get("fields") or {}
            for code in set(old) | set(new):
                found[code] = (old.get(code), new.get(code))
        else:
            found[name] = (before.get(name), after.get(name))
    return found


@dataclass(frozen=True)
class Rule:
    """An active rule as the deals service answers it."""

    id: str
    pipeline_id: str
    version: int
    trigger: Mapping[str, Any]
    active: bool = True


@dataclass(frozen=True)
class Firing:
    rule: Rule
    why: str  # e.g. `enter "Terms approval"`


def _same(value: Any, expected: Any) -> bool:
    return str(value if value is not None else "") == str(expected if expected is not None else "")


def firings(event: DealEvent, rules: Iterable[Rule]) -> list[Firing]:
    """The rules the event fires, each group in the rules' order: leaving the stage left,
    then entering the stage entered; for a creation the `created` rules; for an update the
    `field_changed` rules whose field changed (from/to the values they name)."""
    rules = [r for r in rules if r.active]

    def on(kind: str, pipeline: str, stage: str | None = None) -> list[Rule]:
        return [
            r
            for r in rules
            if r.trigger.get("event") == kind
            and r.pipeline_id == pipeline
            and (stage is None or str(r.trigger.get("stage_id")) == stage)
        ]

    if event.type == STAGE_CHANGED:
        left = (event.from_pipeline_id, event.from_stage_id)
        entered = (event.pipeline_id, event.stage_id)
        if left == entered:
            return []
        leave = f'leave "{event.from_stage or event.from_stage_id}"'
        enter = f'enter "{event.to_stage or event.stage_id}"'
        return [Firing(r, leave) for r in on("leave", *left)] + [
            Firing(r, enter) for r in on("enter", *entered)
        ]
    if event.type == CREATED:
        return [
            Firing(r, "created")
            for r in on("created", event.pipeline_id)
            if r.trigger.get("stage_id") is None or _same(r.trigger["stage_id"], event.stage_id)
        ]
    if event.type == ACTIVITY_LOGGED:
        return [
            Firing(r, f"{event.activity} logged")
            for r in on("activity_logged", event.pipeline_id)
            if r.trigger.get("kind", "any") in ("any", event.activity)
        ]
    if event.type == PROCESS_FINISHED:
        return [
            Firing(r, f"{event.process} finished ({event.outcome})")
            for r in on("process_finished", event.pipeline_id)
            if r.trigger.get("process") in (None, "", event.process)
            and r.trigger.get("outcome") in (None, "", event.outcome)
        ]
    fired = []
    for rule in on("field_changed", event.pipeline_id):
        code = str(rule.trigger.get("field", ""))
        if code not in event.changed:
            continue
        old, new = event.changed[code]
        if "from" in rule.trigger and not _same(old, rule.trigger["from"]):
            continue
        if "to" in rule.trigger and not _same(new, rule.trigger["to"]):
            continue
        fired.append(Firing(rule, f"{code} changed"))
    return fired
