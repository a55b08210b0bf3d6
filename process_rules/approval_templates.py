"""Approval chain templates as data: ordered steps, who approves each, the quorum of a
parallel group, the deal fields a step may (or must) fill, deadlines, and what a rejection
and a full approval do. `parse_template` checks a definition and reports every problem."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from services.common.errors import FieldProblem, ValidationFailed

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_STEPS = 50


class ApproverKind(StrEnum):
    USER = "user"  # one named user
    ROLE = "role"  # every user with the role (optionally within a department)
    HEAD = "head"  # the head of the initiator's department
    LIST = "list"  # a user looked up in an admin list by a deal field's value


class Quorum(StrEnum):
    ALL = "all"
    ANY = "any"
    MAJORITY = "majority"


@dataclass
class ApproverRule:
    kind: str
    user_id: str = ""
    role: str = ""
    department_id: str = ""
    list_code: str = ""
    key_field: str = ""  # the deal field whose value picks the list row
    key_column: str = ""  # the list column compared with it ("" -> the row id)
    user_column: str = ""  # the list column holding the approver


@dataclass
class StepTemplate:
    code: str
    name: str
    approvers: list[ApproverRule]
    quorum: str = Quorum.ALL.value
    editable_fields: list[str] = field(default_factory=list)
    required_fields: list[str] = field(default_factory=list)  # must be filled to approve
    file_field: str = ""  # the deal field that receives the decision's first file
    requires_file: bool = False  # approving needs a file attached
    deadline_hours: float = 0  # 0 -> no deadline
    remind_before_hours: float = 0  # a reminder this long before the deadline
    escalate: bool = False  # past the deadline, the approver's head is told


@dataclass
class OnReject:
    return_to_previous_stage: bool = True
    allow_lose: bool = True  # the initiator may close the deal as lost instead of restarting


@dataclass
class OnApprove:
    move_to_stage_id: str = ""
    task_title: str = ""  # a task for the initiator ("" -> none)
    notify: bool = True


@dataclass
class ChainTemplate:
    code: str
    name: str
    steps: list[StepTemplate]
    on_reject: OnReject = field(default_factory=OnReject)
    on_approve: OnApprove = field(default_factory=OnApprove)
    version: int = 1


def parse_template(code: str, name: str, definition: Mapping[str, Any]) -> ChainTemplate:
    """A template from its data; ValidationFailed names every bad field at once."""
    problems: list[FieldProblem] = []
    if not _CODE.match(code or ""):
        problems.append(FieldProblem("code", "must match ^[a-z][a-z0-9_]{0,62}$"))
    if not name.strip():
        problems.append(FieldProblem("name", "is required"))
    unknown = set(definition) - {"steps", "on_reject", "on_approve"}
    for key in sorted(unknown):
        problems.append(FieldProblem(f"definition.{key}", "is not a template setting"))
    raw_steps = definition.get("steps")
    steps: list[StepTemplate] = []
    if not isinstance(raw_steps, list) or not raw_steps:
        problems.append(FieldProblem("definition.steps", "must be a non-empty list"))
    elif len(raw_steps) > MAX_STEPS:
        problems.append(FieldProblem("definition.steps", f"must have at most {MAX_STEPS} steps"))
    else:
        for i, raw in enumerate(raw_steps):
            step = _step(raw, f"definition.steps[{i}]", problems)
            if step is not None:
                steps.append(step)
        codes = [s.code for s in steps]
        for dup in sorted({c for c in codes if codes.count(c) > 1}):
            problems.append(FieldProblem("definition.steps", f"step code {dup!r} is repeated"))
    on_reject = _section(definition.get("on_reject"), OnReject, "on_reject", problems)
    on_approve = _section(definition.get("on_approve"), OnApprove, "on_approve", problems)
    if problems:
        raise ValidationFailed(problems)
    return ChainTemplate(code, name.strip(), steps, on_reject, on_approve)


def _step(raw: Any, where: str, problems: list[FieldProblem]) -> StepTemplate | None:
    if not isinstance(raw, dict):
        problems.append(FieldProblem(where, "must be an object"))
        return None
    known = set(StepTemplate.__dataclass_fields__)
    for key in sorted(set(raw) - known):
        problems.append(FieldProblem(f"{where}.{key}", "is not a step setting"))
    code, name = raw.get("code", ""), raw.get("name", "")
    if not isinstance(code, str) or not _CODE.match(code):
        problems.append(FieldProblem(f"{where}.code", "must match ^[a-z][a-z0-9_]{0,62}$"))
    if not isinstance(name, str) or not name.strip():
        problems.append(FieldProblem(f"{where}.name", "is required"))
    quorum = raw.get("quorum", Quorum.ALL.value)
    if quorum not in {q.value for q in Quorum}:
        problems.append(FieldProblem(f"{where}.quorum", "must be one of all, any, majority"))
    raw_approvers = raw.get("approvers")
    approvers: list[ApproverRule] = []
    if not isinstance(raw_approvers, list) or not raw_approvers:
        problems.append(FieldProblem(f"{where}.approvers", "must be a non-empty list"))
    else:
        for j, rule in enumerate(raw_approvers):
            parsed = _approver(rule, f"{where}.approvers[{j}]", problems)
            if parsed is not None:
                approvers.append(parsed)
    lists = {}
    for key in ("editable_fields", "required_fields"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            problems.append(FieldProblem(f"{where}.{key}", "must be a list of field codes"))
            value = []
        lists[key] = list(value)
    for code_ in lists["required_fields"]:
        if code_ not in lists["editable_fields"]:
            lists["editable_fields"].append(code_)  # a field one must fill is editable
    numbers = {}
    for key in ("deadline_hours", "remind_before_hours"):
        value = raw.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            problems.append(FieldProblem(f"{where}.{key}", "must be a number >= 0"))
            value = 0
        numbers[key] = float(value)
    if (
        numbers["remind_before_hours"]
        and numbers["remind_before_hours"] >= numbers["deadline_hours"]
    ):
        problems.append(
            FieldProblem(f"{where}.remind_before_hours", "must be less than deadline_hours")
        )
    flags = {}
    for key in ("requires_file", "escalate"):
        value = raw.get(key, False)
        if not isinstance(value, bool):
            problems.append(FieldProblem(f"{where}.{key}", "must be true or false"))
            value = False
        flags[key] = value
    file_field = raw.get("file_field", "")
    if not isinstance(file_field, str):
        problems.append(FieldProblem(f"{where}.file_field", "must be a field code"))
        file_field = ""
    if flags["escalate"] and not numbers["deadline_hours"]:
        problems.append(FieldProblem(f"{where}.escalate", "needs a deadline_hours"))
    return StepTemplate(
        code=code if isinstance(code, str) else "",
        name=name.strip() if isinstance(name, str) else "",
        approvers=approvers,
        quorum=str(quorum),
        editable_fields=lists["editable_fields"],
        required_fields=lists["required_fields"],
        file_field=file_field,
        requires_file=flags["requires_file"],
        deadline_hours=numbers["deadline_hours"],
        remind_before_hours=numbers["remind_before_hours"],
        escalate=flags["escalate"],
    )


_NEEDS: dict[str, tuple[str, ...]] = {
    ApproverKind.USER: ("user_id",),
    ApproverKind.ROLE: ("role",),
    ApproverKind.HEAD: (),
    ApproverKind.LIST: ("list_code", "key_field", "user_column"),
}


def _approver(raw: Any, where: str, problems: list[FieldProblem]) -> ApproverRule | None:
    if not isinstance(raw, dict):
        problems.append(FieldProblem(where, "must be an object"))
        return None
    kind = raw.get("kind")
    if kind not in _NEEDS:
        problems.append(FieldProblem(f"{where}.kind", "must be one of user, role, head, list"))
        return None
    known = set(ApproverRule.__dataclass_fields__)
    values: dict[str, str] = {}
    for key, value in raw.items():
        if key not in known:
            problems.append(FieldProblem(f"{where}.{key}", "is not an approver setting"))
        elif not isinstance(value, str | int) or isinstance(value, bool):
            problems.append(FieldProblem(f"{where}.{key}", "must be a string"))
        else:
            values[key] = str(value)
    for key in _NEEDS[kind]:
        if not values.get(key):
            problems.append(FieldProblem(f"{where}.{key}", f"is required for a {kind} approver"))
    return ApproverRule(**values)


def _section(raw: Any, kind: type[Any], name: str, problems: list[FieldProblem]) -> Any:
    where = f"definition.{name}"
    if raw is None:
        return kind()
    if not isinstance(raw, dict):
        problems.append(FieldProblem(where, "must be an object"))
        return kind()
    defaults = kind()
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in kind.__dataclass_fields__:
            problems.append(FieldProblem(f"{where}.{key}", "is not a setting here"))
        elif type(value) is not type(getattr(defaults, key)):
            problems.append(FieldProblem(f"{where}.{key}", "has the wrong type"))
        else:
            values[key] = value
    return kind(**values)


def template_definition(template: ChainTemplate) -> dict[str, Any]:
    """The data form of a template (what parse_template reads)."""
    from dataclasses import asdict

    data = asdict(template)
    for key in ("code", "name", "version"):
        data.pop(key)
    return data
