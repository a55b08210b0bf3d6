"""Admin-editable lists (e.g. shipping direction -> operator): typed columns, rows of values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from process_rules.field_values import BadValue, decimal_of, decimal_text
from services.common.errors import FieldProblem, ValidationFailed

LIST_CODE = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
COLUMN_CODE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class ColumnType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    USER = "user"
    BOOL = "bool"


@dataclass(frozen=True)
class Column:
    code: str
    name: str
    type: ColumnType


@dataclass(frozen=True)
class AdminList:
    code: str
    name: str
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class ListItem:
    id: int
    list_code: str
    values: dict[str, Any]


def new_list(code: str, name: str, columns: list[tuple[str, str, str]]) -> AdminList:
    """Validate a list to create from (code, name, type) column triples."""
    problems: list[FieldProblem] = []
    if not LIST_CODE.match(code):
        problems.append(FieldProblem("code", "must match ^[a-z][a-z0-9_]{1,62}$"))
    name = name.strip() or code
    if not columns:
        problems.append(FieldProblem("columns", "a list needs at least one column"))
    clean: list[Column] = []
    for i, (col_code, col_name, col_type) in enumerate(columns):
        if not COLUMN_CODE.match(col_code):
            problems.append(FieldProblem(f"columns[{i}].code", "must match ^[a-z][a-z0-9_]*$"))
        try:
            kind = ColumnType(col_type)
        except ValueError:
            problems.append(
                FieldProblem(f"columns[{i}].type", "must be one of string, number, user, bool")
            )
            continue
        clean.append(Column(col_code, col_name.strip() or col_code, kind))
    codes = [c for c, _, _ in columns]
    if len(set(codes)) != len(codes):
        problems.append(FieldProblem("columns", "column codes must be unique"))
    if problems:
        raise ValidationFailed(problems)
    return AdminList(code, name, tuple(clean))


def _value(column: Column, raw: Any) -> Any:
    match column.type:
        case ColumnType.STRING:
            if not isinstance(raw, str) or len(raw) > 1000:
                raise BadValue("must be a string of at most 1000 characters")
            return raw.strip()
        case ColumnType.NUMBER:
            number = decimal_of(raw, allow_float=True)
            return int(number) if number == number.to_integral_value() else decimal_text(number)
        case ColumnType.USER:
            if isinstance(raw, str) and raw.strip().isdigit():
                raw = int(raw.strip())
            if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw < 2**63:
                raise BadValue("must be a user id")
            return str(raw)
        case ColumnType.BOOL:
            if not isinstance(raw, bool):
                raise BadValue("must be true or false")
            return raw
    raise BadValue("has an unknown type")  # pragma: no cover


def item_values(
    admin_list: AdminList, current: Mapping[str, Any], changes: Mapping[str, Any]
) -> dict[str, Any]:
    """`current` merged with `changes` (None clears), each value checked against its column."""
    columns = {c.code: c for c in admin_list.columns}
    merged = dict(current)
    problems: list[FieldProblem] = []
    for code, raw in changes.items():
        column = columns.get(code)
        if column is None:
            problems.append(FieldProblem(f"values.{code}", "is not a column of this list"))
        elif raw is None:
            merged.pop(code, None)
        else:
            try:
                merged[code] = _value(column, raw)
            except BadValue as exc:
                problems.append(FieldProblem(f"values.{code}", str(exc)))
    if problems:
        raise ValidationFailed(problems)
    return merged
