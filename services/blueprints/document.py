"""A blueprint's text: parsed and checked for shape, with no I/O.

Every problem is reported with its place in the file (`pipelines[2].fields[0].type`); the
references between parts (a field's stages, a rule's stages and pipelines, a list's users)
are checked against the file and the current configuration in `plan.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from services.common.errors import FieldProblem, ValidationFailed
from services.common.yaml_text import load_yaml

Doc = dict[str, Any]

TOP_KEYS = {
    "blueprint": "the format's version (1)",
    "company": "the company's name (a comment for people)",
    "calendar": "the company calendar",
    "roles": "roles beyond the defaults (what each sees and may do)",
    "departments": "the org tree",
    "users": "the people",
    "lists": "admin-editable lists",
    "pipelines": "pipelines and lead funnels",
    "approval_templates": "approval chains",
    "contract_types": "contract types",
}
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
FIELD_TYPES = "string text number money date datetime bool enum user file list_item".split()
SEMANTICS = ("in_progress", "won", "lost", "spam")
COLUMN_TYPES = ("string", "number", "user", "bool")
VISIBILITIES = ("none", "own", "department", "all")
_KEYS: dict[str, tuple[str, ...]] = {
    "calendar": ("timezone", "working_days", "work_start", "work_end", "holidays"),
    "department": ("name", "head", "children"),
    "role": ("code", "name", "visibility", "permissions"),
    "user": ("email", "name", "roles", "department", "password", "substitute", "absent"),
    "list": ("code", "name", "columns", "key", "items"),
    "column": ("code", "name", "type"),
    "pipeline": ("name", "kind", "stages", "fields", "rules"),
    "stage": ("name", "semantic"),
    "field": tuple(
        "code name type options list formula currency required_on_stages required_to_leave".split()
    ),
    "rule": ("name", "trigger", "condition", "delay", "keep_on_leave", "actions", "active"),
    "template": ("code", "name", "steps", "on_reject", "on_approve"),
    "contract_type": ("code", "name", "template"),
}


def parse(text: str) -> Doc:
    """The blueprint in `text`, its shape checked; ValidationFailed lists every problem."""
    data = load_yaml(text)
    checker = _Shape()
    doc = checker.document(data)
    if checker.problems:
        raise ValidationFailed(checker.problems)
    return doc


class _Shape:
    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    def fail(self, where: str, message: str) -> None:
        self.problems.append(FieldProblem(where, message))

    def document(self, data: Any) -> Doc:
        if not isinstance(data, dict):
            self.fail("file", "must be a mapping of " + ", ".join(TOP_KEYS))
            return {}
        for key in data:
            if key not in TOP_KEYS:
                self.fail(str(key), "unknown key; a blueprint holds " + ", ".join(TOP_KEYS))
        if data.get("blueprint", 1) != 1:
            self.fail("blueprint", "only version 1 is known")
        if "calendar" in data:
            self.mapping(data["calendar"], "calendar", "calendar")
        self.items(data, "roles", "role", self.role)
        self.departments(data.get("departments"), "departments")
        self.items(data, "users", "user", self.user)
        self.items(data, "lists", "list", self.a_list)
        self.items(data, "pipelines", "pipeline", self.pipeline)
        self.items(data, "approval_templates", "template", self.template)
        self.items(data, "contract_types", "contract_type", self.contract_type)
        self.unique(data.get("pipelines"), "pipelines", "name")
        self.unique(data.get("lists"), "lists", "code")
        self.unique(data.get("users"), "users", "email")
        self.unique(data.get("roles"), "roles", "code")
        self.unique(data.get("approval_templates"), "approval_templates", "code")
        self.unique(data.get("contract_types"), "contract_types", "code")
        return data

    # ---- helpers ----
    def mapping(self, value: Any, where: str, kind: str) -> bool:
        if not isinstance(value, dict):
            self.fail(where, "must be a mapping")
            return False
        for key in value:
            if key not in _KEYS[kind]:
                self.fail(f"{where}.{key}", "unknown key; one of " + ", ".join(_KEYS[kind]))
        return True

    def items(self, data: Doc, key: str, kind: str, each: Callable[[Doc, str], None]) -> None:
        value = data.get(key)
        if value is None:
            return
        if not isinstance(value, list):
            self.fail(key, "must be a list")
            return
        for i, item in enumerate(value):
            if self.mapping(item, f"{key}[{i}]", kind):
                each(item, f"{key}[{i}]")

    def text(self, item: Doc, key: str, where: str, *, required: bool = True) -> None:
        value = item.get(key)
        if value is None:
            if required:
                self.fail(f"{where}.{key}", "is required")
        elif not isinstance(value, str) or not value.strip() or len(value) > 300:
            self.fail(f"{where}.{key}", "must be a text of 1 to 300 characters")

    def code(self, item: Doc, key: str, where: str) -> None:
        value = item.get(key)
        if not isinstance(value, str) or not _CODE.match(value):
            self.fail(f"{where}.{key}", "must be a code: a-z, digits and _, from a letter")

    def names(self, item: Doc, key: str, where: str) -> None:
        value = item.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"{where}.{key}", "must be a list of names")

    def choice(self, item: Doc, key: str, where: str, options: tuple[str, ...]) -> None:
        if key in item and item[key] not in options:
            self.fail(f"{where}.{key}", "must be one of " + ", ".join(options))

    def unique(self, value: Any, where: str, key: str) -> None:
        if not isinstance(value, list):
            return
        seen: set[str] = set()
        for i, item in enumerate(value):
            name = item.get(key) if isinstance(item, dict) else None
            if isinstance(name, str):
                if name.lower() in seen:
                    self.fail(f"{where}[{i}].{key}", f"'{name}' appears twice")
                seen.add(name.lower())

    # ---- parts ----
    def departments(self, value: Any, where: str) -> None:
        if value is None:
            return
        if not isinstance(value, list):
            self.fail(where, "must be a list")
            return
        for i, item in enumerate(value):
            place = f"{where}[{i}]"
            if self.mapping(item, place, "department"):
                self.text(item, "name", place)
                self.text(item, "head", place, required=False)
                self.departments(item.get("children"), f"{place}.children")

    def role(self, item: Doc, where: str) -> None:
        self.code(item, "code", where)
        self.text(item, "name", where)
        self.choice(item, "visibility", where, VISIBILITIES)
        self.names(item, "permissions", where)

    def user(self, item: Doc, where: str) -> None:
        self.text(item, "email", where)
        self.text(item, "name", where, required=False)
        self.names(item, "roles", where)
        self.text(item, "department", where, required=False)
        self.text(item, "substitute", where, required=False)
        password = item.get("password")
        if password is not None and (not isinstance(password, str) or len(password) < 8):
            self.fail(f"{where}.password", "must be at least 8 characters")
        if "absent" in item and not isinstance(item["absent"], bool):
            self.fail(f"{where}.absent", "must be true or false")

    def a_list(self, item: Doc, where: str) -> None:
        self.code(item, "code", where)
        self.text(item, "name", where)
        columns = item.get("columns")
        if not isinstance(columns, list) or not columns:
            self.fail(f"{where}.columns", "must be a list of at least one column")
            columns = []
        codes = []
        for i, column in enumerate(columns):
            place = f"{where}.columns[{i}]"
            if self.mapping(column, place, "column"):
                self.code(column, "code", place)
                self.choice(column, "type", place, COLUMN_TYPES)
                codes.append(column.get("code"))
        key = item.get("key", codes[0] if codes else None)
        if codes and key not in codes:
            self.fail(f"{where}.key", "must be one of the columns' codes")
        rows = item.get("items", [])
        if not isinstance(rows, list):
            self.fail(f"{where}.items", "must be a list")
            return
        for i, row in enumerate(rows):
            place = f"{where}.items[{i}]"
            if not isinstance(row, dict):
                self.fail(place, "must be a mapping of column codes to values")
                continue
            for column_code in row:
                if column_code not in codes:
                    self.fail(f"{place}.{column_code}", "is not a column of the list")
            if key is not None and row.get(key) in (None, ""):
                self.fail(f"{place}.{key}", "is required: it identifies the row")

    def pipeline(self, item: Doc, where: str) -> None:
        self.text(item, "name", where)
        self.choice(item, "kind", where, ("deal", "lead"))
        stages = item.get("stages")
        if not isinstance(stages, list) or not stages:
            self.fail(f"{where}.stages", "must be a list of at least one stage")
            stages = []
        for i, stage in enumerate(stages):
            place = f"{where}.stages[{i}]"
            if isinstance(stage, str):
                continue
            if self.mapping(stage, place, "stage"):
                self.text(stage, "name", place)
                self.choice(stage, "semantic", place, SEMANTICS)
        self.unique([_stage(s) for s in stages], f"{where}.stages", "name")
        for key, kind, each in (("fields", "field", self.field), ("rules", "rule", self.rule)):
            value = item.get(key, [])
            if not isinstance(value, list):
                self.fail(f"{where}.{key}", "must be a list")
                continue
            for i, part in enumerate(value):
                if self.mapping(part, f"{where}.{key}[{i}]", kind):
                    each(part, f"{where}.{key}[{i}]")
        self.unique(item.get("fields"), f"{where}.fields", "code")
        self.unique(item.get("rules"), f"{where}.rules", "name")

    def field(self, item: Doc, where: str) -> None:
        self.code(item, "code", where)
        self.text(item, "name", where, required=False)
        if item.get("type") not in FIELD_TYPES:
            self.fail(f"{where}.type", "must be one of " + ", ".join(FIELD_TYPES))
        for key in ("options", "required_on_stages", "required_to_leave"):
            self.names(item, key, where)
        if item.get("type") == "list_item" and not item.get("list"):
            self.fail(f"{where}.list", "is required for a list_item field: a list's code")

    def rule(self, item: Doc, where: str) -> None:
        self.text(item, "name", where)
        if not isinstance(item.get("trigger"), dict):
            self.fail(f"{where}.trigger", "must be a mapping (event, stage, ...)")
        actions = item.get("actions")
        if not isinstance(actions, list) or not actions:
            self.fail(f"{where}.actions", "must be a list of at least one action")
        elif not all(isinstance(a, dict) and "type" in a for a in actions):
            self.fail(f"{where}.actions", "every action is a mapping with a type")

    def template(self, item: Doc, where: str) -> None:
        self.code(item, "code", where)
        self.text(item, "name", where)
        if not isinstance(item.get("steps"), list) or not item["steps"]:
            self.fail(f"{where}.steps", "must be a list of at least one step")

    def contract_type(self, item: Doc, where: str) -> None:
        self.code(item, "code", where)
        self.text(item, "name", where)
        self.code(item, "template", where)


def _stage(stage: Any) -> Any:
    """A stage written as its name alone means an in-progress stage."""
    return {"name": stage} if isinstance(stage, str) else stage


def stages_of(pipeline: Doc) -> list[Doc]:
    return [
        {"name": s["name"], "semantic": s.get("semantic", "in_progress")}
        for s in map(_stage, pipeline.get("stages", []))
    ]
