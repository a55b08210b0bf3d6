"""Custom field values: each type's validation and its normalized JSON form. Shared by the
deals service and the processes that fill fields, so both agree (the replay tests guard it).

Normalized forms: string/text/enum → str; number → int, or a decimal string when it has a
fraction; money → decimal string (a float is refused, it cannot carry money exactly);
date → "YYYY-MM-DD"; datetime → ISO 8601 in UTC; bool → bool; user/file/list_item → the
record id as a string. None (or an empty string) clears a value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Protocol

from services.common.errors import FieldProblem, ValidationFailed

MAX_STRING = 1_000
MAX_TEXT = 100_000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DECIMAL = re.compile(r"^[+-]?\d+(\.\d+)?$")


class FieldType(StrEnum):
    STRING = "string"
    TEXT = "text"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    DATETIME = "datetime"
    BOOL = "bool"
    ENUM = "enum"
    USER = "user"
    FILE = "file"
    LIST_ITEM = "list_item"


class FieldDefinition(Protocol):
    """What a value's rules need of a field's definition (the deals service's definitions
    and a process's view of them both fit)."""

    @property
    def type(self) -> FieldType | str: ...

    @property
    def options(self) -> tuple[str, ...]: ...


class StoredField(FieldDefinition, Protocol):
    """A field definition as a record keeps it: a computed one has a formula."""

    @property
    def formula(self) -> str: ...


class BadValue(ValueError):
    """A value that does not fit its type; the message is for the client."""


def decimal_of(raw: Any, *, allow_float: bool = False) -> Decimal:
    """A finite decimal from an int or a plain decimal string (floats only if allowed)."""
    if isinstance(raw, bool):
        raise BadValue("must be a number")
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        if not allow_float:
            raise BadValue('must be a decimal string such as "1500.50", not a float')
        return Decimal(repr(raw))
    if isinstance(raw, str) and _DECIMAL.match(raw.strip()):
        try:
            return Decimal(raw.strip())
        except InvalidOperation:
            pass
    raise BadValue("must be a decimal number")


def decimal_text(value: Decimal) -> str:
    return format(value, "f")


def _id(raw: Any) -> str:
    if isinstance(raw, bool):
        raise BadValue("must be a record id")
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if isinstance(raw, int) and 0 < raw < 2**63:
        return str(raw)
    raise BadValue("must be a record id")


def _text(raw: Any, limit: int) -> str:
    if not isinstance(raw, str):
        raise BadValue("must be a string")
    if len(raw) > limit:
        raise BadValue(f"must be at most {limit} characters")
    return raw


def normalize(definition: FieldDefinition, raw: Any) -> Any:
    """The normalized value of `raw` for that field, or BadValue."""
    match definition.type:
        case FieldType.STRING:
            return _text(raw, MAX_STRING).strip()
        case FieldType.TEXT:
            return _text(raw, MAX_TEXT)
        case FieldType.NUMBER:
            number = decimal_of(raw, allow_float=True)
            if number == number.to_integral_value():
                return int(number)
            return decimal_text(number)
        case FieldType.MONEY:
            return decimal_text(decimal_of(raw))
        case FieldType.DATE:
            if not isinstance(raw, str) or not _DATE.match(raw):
                raise BadValue("must be a date as YYYY-MM-DD")
            try:
                return date.fromisoformat(raw).isoformat()
            except ValueError:
                raise BadValue("must be a date as YYYY-MM-DD") from None
        case FieldType.DATETIME:
            return _datetime(raw)
        case FieldType.BOOL:
            if not isinstance(raw, bool):
                raise BadValue("must be true or false")
            return raw
        case FieldType.ENUM:
            if raw not in definition.options:
                raise BadValue("must be one of " + ", ".join(definition.options))
            return raw
        case FieldType.USER | FieldType.FILE | FieldType.LIST_ITEM:
            return _id(raw)
    raise BadValue(f"has an unknown type {definition.type}")  # pragma: no cover


def _datetime(raw: Any) -> str:
    message = "must be an ISO 8601 date-time with a time zone"
    if not isinstance(raw, str) or "T" not in raw.upper():
        raise BadValue(message)
    try:
        parsed = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise BadValue(message) from None
    if parsed.tzinfo is None:
        raise BadValue(message)
    return parsed.astimezone(UTC).isoformat()


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def merge_values(
    definitions: Mapping[str, StoredField],
    current: Mapping[str, Any],
    changes: Mapping[str, Any],
) -> dict[str, Any]:
    """`current` with `changes` applied (None or "" clears); unknown codes and bad values are
    refused together, one problem per field named `fields.<code>`."""
    merged = dict(current)
    problems: list[FieldProblem] = []
    for code, raw in changes.items():
        definition = definitions.get(code)
        if definition is None:
            problems.append(FieldProblem(f"fields.{code}", "is not a field of this pipeline"))
            continue
        if definition.formula:
            problems.append(FieldProblem(f"fields.{code}", "is computed (read-only)"))
            continue
        if is_empty(raw):
            merged.pop(code, None)
            continue
        try:
            merged[code] = normalize(definition, raw)
        except BadValue as exc:
            problems.append(FieldProblem(f"fields.{code}", str(exc)))
    if problems:
        raise ValidationFailed(problems)
    return merged
