"""What a decision must carry, checked in the chain's Update validator (so the gateway
answers at once and nothing changes): a comment to reject, only the step's editable fields,
values that fit the deal's field definitions, the fields and file a step requires."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from process_rules.approval_templates import StepTemplate
from process_rules.field_values import BadValue, FieldType, is_empty, normalize
from workflows.activities.approval_types import FieldSpec

APPROVE, REJECT = "approve", "reject"
RESTART, LOSE = "restart", "lose"


@dataclass
class DecisionData:
    """The `data` of a decision's TaskAnswer."""

    comment: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    file_ids: list[str] = field(default_factory=list)


class DecisionRefused(ValueError):
    """What is wrong with a decision; the message is for the person."""


def decision_data(data: Mapping[str, Any]) -> DecisionData:
    unknown = sorted(set(data) - {"comment", "fields", "file_ids", "reason"})
    if unknown:
        raise DecisionRefused(f"unknown decision data: {', '.join(unknown)}")
    comment = data.get("comment") or ""
    fields = data.get("fields") or {}
    file_ids = data.get("file_ids") or []
    if not isinstance(comment, str):
        raise DecisionRefused("comment must be a string")
    if not isinstance(fields, dict):
        raise DecisionRefused("fields must be an object of field code → value")
    if not isinstance(file_ids, list) or not all(isinstance(f, str | int) for f in file_ids):
        raise DecisionRefused("file_ids must be a list of file ids")
    return DecisionData(comment.strip(), dict(fields), [str(f) for f in file_ids])


def check_decision(
    step: StepTemplate,
    specs: Sequence[FieldSpec],
    outcome: str,
    data: DecisionData,
    current: Mapping[str, Any],
) -> dict[str, Any]:
    """The normalized field changes of an acceptable decision; DecisionRefused otherwise."""
    if outcome == REJECT:
        if not data.comment:
            raise DecisionRefused("a rejection needs a comment saying why")
        if data.fields:
            raise DecisionRefused("a rejection changes no fields")
        return {}
    definitions = {s.code: _definition(s) for s in specs}
    changes: dict[str, Any] = {}
    problems: list[str] = []
    for code, raw in data.fields.items():
        if code not in step.editable_fields:
            problems.append(f"fields.{code}: may not be changed at step {step.name!r}")
            continue
        definition = definitions.get(code)
        if definition is None:
            problems.append(f"fields.{code}: is not a field of this deal's pipeline")
            continue
        try:
            changes[code] = None if is_empty(raw) else normalize(definition, raw)
        except BadValue as exc:
            problems.append(f"fields.{code}: {exc}")
    if step.file_field and data.file_ids:
        changes[step.file_field] = data.file_ids[0]
    merged = {**current, **changes}
    for code in step.required_fields:
        if is_empty(merged.get(code)):
            problems.append(f"fields.{code}: is required to approve at step {step.name!r}")
    if step.requires_file and not data.file_ids:
        problems.append(f"file_ids: step {step.name!r} needs a file attached to approve")
    if problems:
        raise DecisionRefused("; ".join(problems))
    return changes


def check_return_answer(outcome: str, data: Mapping[str, Any], allow_lose: bool) -> str:
    """The initiator's answer to a rejection: restart, or lose with a reason."""
    reason = str(data.get("reason") or data.get("comment") or "").strip()
    if outcome == LOSE:
        if not allow_lose:
            raise DecisionRefused("this chain does not allow losing the deal here")
        if not reason:
            raise DecisionRefused("losing the deal needs a reason")
    return reason


@dataclass(frozen=True)
class _Definition:
    type: FieldType
    options: tuple[str, ...]


def _definition(spec: FieldSpec) -> _Definition:
    return _Definition(type=FieldType(spec.type), options=tuple(spec.options))
