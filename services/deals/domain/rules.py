"""Automation rules of a pipeline, as data: a name, a trigger, an optional condition, an
optional delay and ordered actions; every change is a new version. A lead funnel's rules
take lead actions (domain/lead_actions.py). The worker's triggers match deal (and lead)
events to the triggers and run the rule (workflows/automation.py); the deals service plans
a run (services/deals/automation_plan.py). Process names and params of
`start_process` actions are checked by the gateway against the worker's registry.

The rule shape (the REST body of POST /pipelines/{id}/rules):
    {"name", "active", "trigger": {"event": "enter", "stage_id": 12},
     "condition": {...} (domain/conditions.py), "delay": {...} (domain/calendar.py),
     "keep_on_leave": false, "actions": [{"type": "create_task", ...}, ...]}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from services.common.errors import FieldProblem, ValidationFailed
from services.deals.domain.actions import check_actions
from services.deals.domain.calendar import check_offset
from services.deals.domain.conditions import ATTRIBUTES, check_condition
from services.deals.domain.pipelines import FieldType, Pipeline

EVENTS = ("created", "enter", "leave", "field_changed", "activity_logged", "process_finished")
STAGE_EVENTS = frozenset({"enter", "leave"})
MAX_NAME = 200
MAX_DEFINITION_BYTES = 64 * 1024
DEFINITION_KEYS = frozenset(
    {"name", "active", "trigger", "condition", "delay", "keep_on_leave", "actions"}
)


@dataclass(frozen=True)
class StageRule:
    """A stored rule. `definition` holds the rule shape above, normalized."""

    id: int
    pipeline_id: int
    definition: dict[str, Any]
    version: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def active(self) -> bool:
        return bool(self.definition.get("active", True))

    @property
    def trigger(self) -> dict[str, Any]:
        return dict(self.definition["trigger"])

    @property
    def stage_id(self) -> int | None:
        stage = self.definition["trigger"].get("stage_id")
        return None if stage is None else int(stage)

    def audit_view(self) -> dict[str, Any]:
        """What the audit log keeps of the rule (before/after a change)."""
        return {"pipeline_id": self.pipeline_id, "version": self.version, **self.definition}


def legacy_definition(
    *, stage_id: Any, event: Any, process: Any, params: Any, active: bool = True
) -> dict[str, Any]:
    """The rule shape of the first stage rules ({stage_id, event, process, params}):
    on entering/leaving the stage, start the process."""
    return {
        "name": f"{process} on {event}",
        "active": active,
        "trigger": {"event": event, "stage_id": stage_id},
        "actions": [{"type": "start_process", "process": process, "params": params}],
    }


def field_types(pipeline: Pipeline) -> dict[str, FieldType]:
    return {f.code: f.type for f in pipeline.fields}


def new_definition(
    pipeline: Pipeline, raw: Mapping[str, Any], pipelines: Mapping[int, Pipeline]
) -> dict[str, Any]:
    """The normalized rule shape of `pipeline`, or ValidationFailed naming every problem's
    place (`condition.all[1].value`, `actions[0].assignee.kind`). `pipelines` holds the
    other pipelines a move or create_deal action names."""
    problems: list[FieldProblem] = [
        FieldProblem(k, "is not part of a rule") for k in raw if k not in DEFINITION_KEYS
    ]
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        problems.append(FieldProblem("name", f"must be 1 to {MAX_NAME} characters"))
    for flag in ("active", "keep_on_leave"):
        if flag in raw and not isinstance(raw[flag], bool):
            problems.append(FieldProblem(flag, "must be true or false"))
    types = field_types(pipeline)
    options = {f.code: f.options for f in pipeline.fields}
    problems += _check_trigger(pipeline, raw.get("trigger"), types)
    if raw.get("condition") is not None:
        problems += check_condition(raw["condition"], types, options)
    dates = {c for c, t in types.items() if t in (FieldType.DATE, FieldType.DATETIME)}
    if raw.get("delay") is not None:
        problems += check_offset(raw["delay"], "delay", dates)
    problems += check_actions(pipeline, raw.get("actions"), pipelines, dates)
    if not problems and len(json.dumps(raw, default=str)) > MAX_DEFINITION_BYTES:
        problems.append(FieldProblem("actions", f"the rule must be under {MAX_DEFINITION_BYTES} B"))
    if problems:
        raise ValidationFailed(problems)
    clean = {k: v for k, v in raw.items() if v is not None}
    clean["name"] = str(name).strip()
    clean.setdefault("active", True)
    return clean


def change_definition(
    pipeline: Pipeline,
    rule: StageRule,
    changes: Mapping[str, Any],
    pipelines: Mapping[int, Pipeline],
) -> StageRule:
    """The rule with the given keys of its shape replaced (None removes an optional one),
    checked again; a new version when anything changed."""
    merged = {**rule.definition, **changes}
    merged = {k: v for k, v in merged.items() if v is not None}
    definition = new_definition(pipeline, merged, pipelines)
    if definition == rule.definition:
        return rule
    return replace(rule, definition=definition, version=rule.version + 1)


def _check_trigger(
    pipeline: Pipeline, raw: Any, types: Mapping[str, FieldType]
) -> list[FieldProblem]:
    if not isinstance(raw, dict):
        return [FieldProblem("trigger", "must be an object with an event")]
    event = raw.get("event")
    if event not in EVENTS:
        return [FieldProblem("trigger.event", "must be one of " + ", ".join(EVENTS))]
    allowed = {"event", "stage_id"}
    problems: list[FieldProblem] = []
    stage = raw.get("stage_id")
    if event in STAGE_EVENTS and stage is None:
        problems.append(FieldProblem("trigger.stage_id", f"is required for {event}"))
    if stage is not None and not (
        isinstance(stage, int) and stage in {s.id for s in pipeline.stages}
    ):
        problems.append(FieldProblem("trigger.stage_id", "is not a stage of the pipeline"))
    if event == "field_changed":
        allowed |= {"field", "from", "to"}
        code = raw.get("field")
        if not isinstance(code, str) or (code not in types and code not in ATTRIBUTES):
            problems.append(FieldProblem("trigger.field", "must be a field of the pipeline"))
    if event == "activity_logged":
        allowed |= {"kind"}
        if raw.get("kind", "call") not in ("call", "email", "meeting", "any"):
            problems.append(FieldProblem("trigger.kind", "must be call, email, meeting or any"))
    if event == "process_finished":
        allowed |= {"process", "outcome"}
    problems += [
        FieldProblem(f"trigger.{k}", f"is not taken by {event}") for k in raw if k not in allowed
    ]
    return problems


def matches(trigger: Mapping[str, Any], asked: Mapping[str, Any]) -> bool:
    """Whether a rule's trigger fires for the trigger of a dry run (the same shape)."""
    if trigger.get("event") != asked.get("event"):
        return False
    for key in ("stage_id", "field", "kind", "process"):
        if trigger.get(key) is not None and str(trigger[key]) != str(asked.get(key, "")):
            return False
    return True
