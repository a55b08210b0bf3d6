"""The actions of an automation rule and how each is checked when the rule is saved.

    create_task  {title, description?, assignee, deadline?, checklist?, close_on_leave?}
    move         {stage_id, pipeline_id?}
    set_fields   {fields: {code: value}}
    create_deal  {pipeline_id, stage_id?, title?, fields: {target_code: source_code}}
    notify       {assignee, title, body?}
    start_process {process, params?}
    add_timeline_note {text}
    convert_lead, exclude_contact (lead funnels only: domain/lead_actions.py)
A lead funnel's rule takes create_task, move, set_fields, notify and those two. Any action
may carry its own `delay` (after the rule's). An assignee is one of
    {"kind": "responsible"} {"kind": "responsible_head"} {"kind": "user", "user_id"}
    {"kind": "role", "role", "department_id"?}
    {"kind": "list", "list_code", "key_field", "key_column"?, "user_column"}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from process_rules.field_values import BadValue, normalize
from services.common.errors import FieldProblem
from services.deals.domain.action_values import record_id as _id
from services.deals.domain.action_values import text_problems as _text
from services.deals.domain.calendar import check_offset
from services.deals.domain.conditions import ATTRIBUTES
from services.deals.domain.lead_actions import (
    LEAD_KEYS,
    check_convert,
    check_exclude,
    kind_problems,
)
from services.deals.domain.pipelines import Kind, Pipeline

MAX_ACTIONS = 20
ASSIGNEE_KINDS = ("responsible", "responsible_head", "user", "role", "list")
_COMMON = {"type", "delay"}
_KEYS: Mapping[str, set[str]] = {
    "create_task": {"title", "description", "assignee", "deadline", "checklist", "close_on_leave"},
    "move": {"stage_id", "pipeline_id"},
    "set_fields": {"fields"},
    "create_deal": {"pipeline_id", "stage_id", "title", "fields"},
    "notify": {"assignee", "title", "body"},
    "start_process": {"process", "params"},
    "add_timeline_note": {"text"},
    **LEAD_KEYS,
}
ACTION_TYPES = tuple(_KEYS)

Check = Callable[[Pipeline, dict[str, Any], Mapping[int, Pipeline], str], list[FieldProblem]]


def check_actions(
    pipeline: Pipeline, raw: Any, pipelines: Mapping[int, Pipeline], date_fields: set[str]
) -> list[FieldProblem]:
    if not isinstance(raw, list) or not raw or len(raw) > MAX_ACTIONS:
        return [FieldProblem("actions", f"must list 1 to {MAX_ACTIONS} actions")]
    problems: list[FieldProblem] = []
    for i, action in enumerate(raw):
        path = f"actions[{i}]"
        if not isinstance(action, dict) or str(action.get("type")) not in _KEYS:
            problems.append(FieldProblem(f"{path}.type", "must be one of " + ", ".join(_KEYS)))
            continue
        kind = action["type"]
        if wrong := kind_problems(pipeline, kind, path):
            problems += wrong
            continue
        problems += [
            FieldProblem(f"{path}.{k}", f"is not taken by {kind}")
            for k in action
            if k not in _KEYS[kind] | _COMMON
        ]
        if action.get("delay") is not None:
            problems += check_offset(action["delay"], f"{path}.delay", date_fields)
        if kind == "create_task" and action.get("deadline") is not None:
            problems += check_offset(action["deadline"], f"{path}.deadline", date_fields)
        problems += _CHECKS[kind](pipeline, action, pipelines, path)
    return problems


def check_assignee(pipeline: Pipeline, raw: Any, path: str) -> list[FieldProblem]:
    if not isinstance(raw, dict) or str(raw.get("kind")) not in ASSIGNEE_KINDS:
        return [FieldProblem(f"{path}.kind", "must be one of " + ", ".join(ASSIGNEE_KINDS))]
    kind = raw["kind"]
    needs = {
        "user": ("user_id",),
        "role": ("role",),
        "list": ("list_code", "key_field", "user_column"),
    }.get(kind, ())
    problems = [
        FieldProblem(f"{path}.{k}", f"is required for {kind}") for k in needs if not raw.get(k)
    ]
    if kind == "user" and raw.get("user_id") and _id(raw["user_id"]) is None:
        problems.append(FieldProblem(f"{path}.user_id", "must be a user id"))
    if kind == "role" and raw.get("department_id") and _id(raw["department_id"]) is None:
        problems.append(FieldProblem(f"{path}.department_id", "must be a department id"))
    if kind == "list" and raw.get("key_field"):
        if (
            pipeline.field_by_code(str(raw["key_field"])) is None
            and str(raw["key_field"]) not in ATTRIBUTES
        ):
            problems.append(FieldProblem(f"{path}.key_field", "must be a field of the pipeline"))
    return problems


def _create_task(
    pipeline: Pipeline, a: dict[str, Any], _: Mapping[int, Pipeline], path: str
) -> list[FieldProblem]:
    problems = _text(a, "title", path, required=True) + _text(
        a, "description", path, required=False
    )
    problems += check_assignee(pipeline, a.get("assignee"), f"{path}.assignee")
    checklist = a.get("checklist", [])
    if not isinstance(checklist, list) or not all(
        isinstance(c, str) and c.strip() for c in checklist
    ):
        problems.append(FieldProblem(f"{path}.checklist", "must be a list of non-empty texts"))
    if not isinstance(a.get("close_on_leave", False), bool):
        problems.append(FieldProblem(f"{path}.close_on_leave", "must be true or false"))
    return problems


def _target(
    pipeline: Pipeline,
    a: dict[str, Any],
    pipelines: Mapping[int, Pipeline],
    path: str,
    *,
    stage_required: bool,
) -> tuple[Pipeline | None, list[FieldProblem]]:
    target = pipeline
    if a.get("pipeline_id") is not None:
        found = pipelines.get(_id(a["pipeline_id"]) or 0)
        if found is None:
            return None, [FieldProblem(f"{path}.pipeline_id", "is not a pipeline")]
        if a["type"] == "move" and Kind.LEAD in (pipeline.kind, found.kind) and found != pipeline:
            return None, [FieldProblem(f"{path}.pipeline_id", "a lead moves within its funnel")]
        target = found
    stage = a.get("stage_id")
    if stage is None:
        return target, [FieldProblem(f"{path}.stage_id", "is required")] if stage_required else []
    if _id(stage) not in {s.id for s in target.stages}:
        return target, [FieldProblem(f"{path}.stage_id", f"is not a stage of pipeline {target.id}")]
    return target, []


def _move(
    pipeline: Pipeline, a: dict[str, Any], pipelines: Mapping[int, Pipeline], path: str
) -> list[FieldProblem]:
    return _target(pipeline, a, pipelines, path, stage_required=True)[1]


def _set_fields(
    pipeline: Pipeline, a: dict[str, Any], _: Mapping[int, Pipeline], path: str
) -> list[FieldProblem]:
    fields = a.get("fields")
    if not isinstance(fields, dict) or not fields:
        return [FieldProblem(f"{path}.fields", "must be an object of field codes and values")]
    problems = []
    for code, value in fields.items():
        definition = pipeline.field_by_code(code)
        if definition is None:
            problems.append(FieldProblem(f"{path}.fields.{code}", "is not a field of the pipeline"))
        elif definition.formula:
            problems.append(FieldProblem(f"{path}.fields.{code}", "is computed (read-only)"))
        elif value is not None:
            try:
                normalize(definition, value)
            except BadValue as exc:
                problems.append(FieldProblem(f"{path}.fields.{code}", str(exc)))
    return problems


def _create_deal(
    pipeline: Pipeline, a: dict[str, Any], pipelines: Mapping[int, Pipeline], path: str
) -> list[FieldProblem]:
    if a.get("pipeline_id") is None:
        return [FieldProblem(f"{path}.pipeline_id", "is required")]
    target, problems = _target(pipeline, a, pipelines, path, stage_required=False)
    problems += _text(a, "title", path, required=False)
    mapping = a.get("fields", {})
    if not isinstance(mapping, dict):
        return [
            *problems,
            FieldProblem(f"{path}.fields", "must map target field codes to source codes"),
        ]
    for target_code, source_code in mapping.items():
        made = None if target is None else target.field_by_code(target_code)
        if target is not None and (made is None or made.formula):
            problems.append(
                FieldProblem(
                    f"{path}.fields.{target_code}", f"is not a field of pipeline {target.id}"
                )
            )
        if not isinstance(source_code, str) or (
            pipeline.field_by_code(source_code) is None and source_code not in ATTRIBUTES
        ):
            problems.append(
                FieldProblem(f"{path}.fields.{target_code}", "must name a field of this pipeline")
            )
    return problems


def _notify(
    pipeline: Pipeline, a: dict[str, Any], _: Mapping[int, Pipeline], path: str
) -> list[FieldProblem]:
    problems = _text(a, "title", path, required=True) + _text(a, "body", path, required=False)
    return problems + check_assignee(pipeline, a.get("assignee"), f"{path}.assignee")


def _start_process(
    _p: Pipeline, a: dict[str, Any], _: Mapping[int, Pipeline], path: str
) -> list[FieldProblem]:
    problems = _text(a, "process", path, required=True)
    if not isinstance(a.get("params", {}), dict):
        problems.append(FieldProblem(f"{path}.params", "must be a JSON object"))
    return problems


def _note(
    _p: Pipeline, a: dict[str, Any], _: Mapping[int, Pipeline], path: str
) -> list[FieldProblem]:
    return _text(a, "text", path, required=True)


_CHECKS: Mapping[str, Check] = {
    "create_task": _create_task,
    "move": _move,
    "set_fields": _set_fields,
    "create_deal": _create_deal,
    "notify": _notify,
    "start_process": _start_process,
    "add_timeline_note": _note,
    "convert_lead": check_convert,
    "exclude_contact": check_exclude,
}
