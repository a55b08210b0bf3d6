"""The condition language of automation rules: JSON over a deal's fields and attributes,
checked against the field types when a rule is saved and evaluated (never `eval`ed)
against the deal when the rule fires.

    {"all": [c, ...]}  {"any": [c, ...]}  {"not": c}
    {"field": "source", "op": "not_empty"}
    {"field": "amount", "op": "gte", "value": "100000"}

A field is a custom field's code (`source`, also written `fields.source`) or an attribute
(`title`, `amount`, `currency`, `responsible_id`, `company_name`, `contact_name`,
`stage_id`). Evaluation answers the result and the reason, e.g. `fields.has_spec is empty`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from process_rules.field_values import is_empty
from services.common.errors import FieldProblem
from services.deals.domain.pipelines import FieldType

VALUE_OPS = frozenset({"eq", "ne", "in", "gt", "gte", "lt", "lte"})
EMPTINESS_OPS = frozenset({"empty", "not_empty"})
ORDER_OPS = frozenset({"gt", "gte", "lt", "lte"})
_ORDERED = frozenset({FieldType.NUMBER, FieldType.MONEY, FieldType.DATE, FieldType.DATETIME})
_NUMERIC = frozenset({FieldType.NUMBER, FieldType.MONEY})
_IDS = frozenset({FieldType.USER, FieldType.FILE, FieldType.LIST_ITEM})
MAX_DEPTH = 10
_SYMBOL = {"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "in": "in"}

# The deal's own attributes a condition (or a formula, a mapping) may name, by type.
ATTRIBUTES: Mapping[str, FieldType] = {
    "title": FieldType.STRING,
    "amount": FieldType.MONEY,
    "currency": FieldType.STRING,
    "responsible_id": FieldType.USER,
    "company_name": FieldType.STRING,
    "contact_name": FieldType.STRING,
    "stage_id": FieldType.LIST_ITEM,  # an id, compared as text
}


@dataclass(frozen=True)
class Outcome:
    result: bool
    reason: str


def field_name(raw: str) -> tuple[str, bool]:
    """(name, is_custom): `fields.x` and a name that is no attribute are custom fields."""
    if raw.startswith("fields."):
        return raw.removeprefix("fields."), True
    return raw, raw not in ATTRIBUTES


def shown(raw: str) -> str:
    name, custom = field_name(raw)
    return f"fields.{name}" if custom else name


# ---- checking, when a rule is saved ----
def check_condition(
    condition: Any,
    types: Mapping[str, FieldType],
    options: Mapping[str, tuple[str, ...]],
    path: str = "condition",
) -> list[FieldProblem]:
    """Every problem of `condition` against the pipeline's field types, named by place."""
    return _check(condition, types, options, path, 0)


def _check(
    node: Any,
    types: Mapping[str, FieldType],
    options: Mapping[str, tuple[str, ...]],
    path: str,
    depth: int,
) -> list[FieldProblem]:
    if depth > MAX_DEPTH:
        return [FieldProblem(path, f"nests deeper than {MAX_DEPTH} levels")]
    if not isinstance(node, dict) or not node:
        return [FieldProblem(path, "must be an object: all, any, not or a field test")]
    for group in ("all", "any"):
        if group in node:
            items = node[group]
            if len(node) != 1 or not isinstance(items, list) or not items:
                return [FieldProblem(f"{path}.{group}", "must be the only key, a non-empty list")]
            return [
                p
                for i, item in enumerate(items)
                for p in _check(item, types, options, f"{path}.{group}[{i}]", depth + 1)
            ]
    if "not" in node:
        if len(node) != 1:
            return [FieldProblem(f"{path}.not", "must be the only key")]
        return _check(node["not"], types, options, f"{path}.not", depth + 1)
    return _check_test(node, types, options, path)


def _check_test(
    node: dict[str, Any],
    types: Mapping[str, FieldType],
    options: Mapping[str, tuple[str, ...]],
    path: str,
) -> list[FieldProblem]:
    unknown = set(node) - {"field", "op", "value"}
    if unknown:
        return [FieldProblem(f"{path}.{sorted(unknown)[0]}", "is not part of a field test")]
    raw = node.get("field")
    if not isinstance(raw, str) or not raw:
        return [FieldProblem(f"{path}.field", "must name a field")]
    name, custom = field_name(raw)
    kind = types.get(name) if custom else ATTRIBUTES[name]
    if kind is None:
        return [FieldProblem(f"{path}.field", f"{raw} is not a field of the pipeline")]
    op = node.get("op")
    if not isinstance(op, str):
        op = ""
    if op in EMPTINESS_OPS:
        if "value" in node:
            return [FieldProblem(f"{path}.value", f"is not taken by {op}")]
        return []
    if op not in VALUE_OPS:
        allowed = ", ".join(sorted(VALUE_OPS | EMPTINESS_OPS))
        return [FieldProblem(f"{path}.op", f"must be one of {allowed}")]
    if op in ORDER_OPS and kind not in _ORDERED:
        return [FieldProblem(f"{path}.op", f"{op} needs a number, money or date field")]
    if "value" not in node:
        return [FieldProblem(f"{path}.value", f"is required by {op}")]
    value = node["value"]
    if op == "in":
        if not isinstance(value, list) or not value:
            return [FieldProblem(f"{path}.value", "must be a non-empty list for in")]
        return [
            FieldProblem(f"{path}.value[{i}]", message)
            for i, v in enumerate(value)
            if (message := _value_problem(kind, options.get(name, ()), v))
        ]
    message = _value_problem(kind, options.get(name, ()), value)
    return [FieldProblem(f"{path}.value", message)] if message else []


def _value_problem(kind: FieldType, options: tuple[str, ...], value: Any) -> str:
    """'' when `value` fits a field of that type, else what is wrong."""
    if kind in _NUMERIC:
        return "" if _decimal(value) is not None else "must be a number"
    if kind == FieldType.BOOL:
        return "" if isinstance(value, bool) else "must be true or false"
    if kind == FieldType.DATE:
        return "" if _date(value) is not None else "must be a date as YYYY-MM-DD"
    if kind == FieldType.DATETIME:
        return "" if _datetime(value) is not None else "must be an ISO 8601 date-time"
    if kind == FieldType.ENUM:
        return "" if value in options else "must be one of " + ", ".join(options)
    if kind in _IDS:
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and value.isdigit()
        )
        return "" if ok else "must be an id"
    return "" if isinstance(value, str) else "must be a string"


# ---- evaluation, when a rule fires ----
def evaluate(condition: Mapping[str, Any] | None, values: Mapping[str, Any]) -> Outcome:
    """The condition's result against `values` (the deal's attributes, custom fields under
    "fields"), with the reason. No condition holds."""
    if not condition:
        return Outcome(True, "no condition")
    return _evaluate(condition, values)


def _evaluate(node: Mapping[str, Any], values: Mapping[str, Any]) -> Outcome:
    if "all" in node:
        outcomes = [_evaluate(c, values) for c in node["all"]]
        failed = [o for o in outcomes if not o.result]
        if failed:
            return Outcome(False, failed[0].reason)
        return Outcome(True, " and ".join(o.reason for o in outcomes))
    if "any" in node:
        outcomes = [_evaluate(c, values) for c in node["any"]]
        held = [o for o in outcomes if o.result]
        if held:
            return Outcome(True, held[0].reason)
        return Outcome(False, "none of: " + "; ".join(o.reason for o in outcomes))
    if "not" in node:
        inner = _evaluate(node["not"], values)
        return Outcome(not inner.result, f"not ({inner.reason})")
    return _test(node, values)


def value_of(raw: str, values: Mapping[str, Any]) -> Any:
    name, custom = field_name(raw)
    if custom:
        return (values.get("fields") or {}).get(name)
    return values.get(name)


def _test(node: Mapping[str, Any], values: Mapping[str, Any]) -> Outcome:
    raw, op = str(node["field"]), str(node["op"])
    actual = value_of(raw, values)
    name = shown(raw)
    if op in EMPTINESS_OPS:
        empty = is_empty(actual) or actual == [] or actual == {}
        held = empty if op == "empty" else not empty
        state = "empty" if empty else "not empty"
        return Outcome(held, f"{name} is {state}")
    expected = node.get("value")
    held = _compare(op, actual, expected)
    verdict = "" if held else "not "
    return Outcome(held, f"{name} ({_text(actual)}) is {verdict}{_SYMBOL[op]} {_text(expected)}")


def _compare(op: str, actual: Any, expected: Any) -> bool:
    if op == "in":
        return any(_equal(actual, e) for e in expected)
    if op == "eq":
        return _equal(actual, expected)
    if op == "ne":
        return not _equal(actual, expected)
    left, right = _ordered(actual), _ordered(expected)
    if left is None or right is None or type(left) is not type(right):
        return False  # an empty or unlike value satisfies no comparison
    order: Any = left  # of one type with `right`, checked above
    match op:
        case "gt":
            return bool(order > right)
        case "gte":
            return bool(order >= right)
        case "lt":
            return bool(order < right)
    return bool(order <= right)


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    left, right = _decimal(actual), _decimal(expected)
    if left is not None and right is not None:
        return left == right
    return str(actual if actual is not None else "") == str(expected)


def _ordered(value: Any) -> Decimal | datetime | date | None:
    number = _decimal(value)
    if number is not None:
        return number
    return _datetime(value) or _date(value)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or "T" not in value.upper():
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _text(value: Any) -> str:
    return "empty" if value is None else str(value)
