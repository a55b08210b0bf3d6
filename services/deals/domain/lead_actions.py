"""The actions of a rule on a lead funnel, how each is checked when the rule is saved and
how the plan resolves them.

On a lead funnel a rule takes `create_task`, `move` (within the funnel), `set_fields`,
`notify` and two actions of its own:
    convert_lead     {pipeline_id?, stage_id?}  or
                     {pipeline_by_field: {field, values: {value: pipeline id}, default?}}
                     (CrmService.ConvertLead: the deal is made in the pipeline given, or in
                     the one the lead's field chooses — a yes/no field's values are `yes`
                     and `no` —, or in the first deal pipeline)
    exclude_contact  {reason?}  (CrmService.ExcludeContact: the lead's contact's e-mails
                     and phones go on the exclusion list)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from process_rules.field_values import FieldType
from services.common.errors import FieldProblem
from services.deals.domain.action_values import record_id, text_problems
from services.deals.domain.pipelines import Kind, Pipeline

LEAD_KEYS: Mapping[str, set[str]] = {
    "convert_lead": {"pipeline_id", "stage_id", "pipeline_by_field"},
    "exclude_contact": {"reason"},
}
ON_LEADS = frozenset({"create_task", "move", "set_fields", "notify", *LEAD_KEYS})
CHOOSING_TYPES = (FieldType.BOOL, FieldType.ENUM, FieldType.STRING, FieldType.LIST_ITEM)


def kind_problems(pipeline: Pipeline, kind: str, path: str) -> list[FieldProblem]:
    """Whether the pipeline's kind takes the action at all."""
    if pipeline.kind is Kind.LEAD and kind not in ON_LEADS:
        allowed = ", ".join(sorted(ON_LEADS))
        return [FieldProblem(f"{path}.type", f"a lead funnel's rule takes {allowed}")]
    if pipeline.kind is not Kind.LEAD and kind in LEAD_KEYS:
        return [FieldProblem(f"{path}.type", f"{kind} is an action of lead funnels only")]
    return []


def _deal_pipeline(
    value: Any, pipelines: Mapping[int, Pipeline], place: str
) -> tuple[Pipeline | None, list[FieldProblem]]:
    found = pipelines.get(record_id(value) or 0)
    if found is None or found.kind is not Kind.DEAL:
        return None, [FieldProblem(place, "is not a pipeline of deals")]
    return found, []


def check_convert(
    funnel: Pipeline, a: dict[str, Any], pipelines: Mapping[int, Pipeline], path: str
) -> list[FieldProblem]:
    chooser = a.get("pipeline_by_field")
    if chooser is not None and a.get("pipeline_id") is not None:
        return [FieldProblem(f"{path}.pipeline_by_field", "is not taken with pipeline_id")]
    if chooser is None:
        if a.get("pipeline_id") is None:
            if a.get("stage_id") is not None:
                return [FieldProblem(f"{path}.stage_id", "is taken with pipeline_id only")]
            return []
        target, problems = _deal_pipeline(a["pipeline_id"], pipelines, f"{path}.pipeline_id")
        stage = a.get("stage_id")
        if target is not None and stage is not None:
            if record_id(stage) not in {s.id for s in target.stages}:
                place = f"{path}.stage_id"
                problems.append(FieldProblem(place, f"is not a stage of pipeline {target.id}"))
        return problems
    place = f"{path}.pipeline_by_field"
    if a.get("stage_id") is not None:
        return [FieldProblem(f"{path}.stage_id", "is taken with pipeline_id only")]
    if not isinstance(chooser, dict):
        return [FieldProblem(place, "must be an object with field and values")]
    problems = [
        FieldProblem(f"{place}.{k}", "is not taken")
        for k in chooser
        if k not in ("field", "values", "default")
    ]
    definition = funnel.field_by_code(str(chooser.get("field", "")).removeprefix("fields."))
    if definition is None or definition.type not in CHOOSING_TYPES:
        problems.append(FieldProblem(f"{place}.field", "must be a yes/no, enum or text field"))
    values = chooser.get("values")
    if not isinstance(values, dict) or not values:
        problems.append(FieldProblem(f"{place}.values", "must map field values to pipelines"))
    else:
        for value, pipeline_id in values.items():
            problems += _deal_pipeline(pipeline_id, pipelines, f"{place}.values.{value}")[1]
        if definition is not None and definition.type is FieldType.BOOL:
            problems += [
                FieldProblem(f"{place}.values.{v}", "a yes/no field's values are yes and no")
                for v in values
                if v not in ("yes", "no")
            ]
    if chooser.get("default") is not None:
        problems += _deal_pipeline(chooser["default"], pipelines, f"{place}.default")[1]
    return problems


def check_exclude(
    _f: Pipeline, a: dict[str, Any], _: Mapping[int, Pipeline], path: str
) -> list[FieldProblem]:
    return text_problems(a, "reason", path, required=False)


def _key(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def resolve_convert(action: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """The plan's values of a convert_lead action on a lead with these fields:
    {"pipeline_id"} chosen (by the field), or {"error"} when the field chooses nothing."""
    chooser = action.get("pipeline_by_field")
    if not chooser:
        return {}
    code = str(chooser["field"]).removeprefix("fields.")
    value = _key(fields.get(code))
    chosen = dict(chooser["values"]).get(value, chooser.get("default"))
    if chosen is None:
        shown = value or "empty"
        return {"error": f"fields.{code} is {shown}: no pipeline is chosen for it"}
    return {"pipeline_id": str(chosen)}
