"""A process's start parameters as a typed dataclass, checked once against its declaration.

    @dataclass
    class SampleReturnParams:
        return_by: date = param(help="the date (YYYY-MM-DD) the samples must be back")

A field's type says how its raw JSON value is read: `str`, `int`, `bool`, `date`,
`list[str]`, `list[int]` (whole numbers, 0 or more), `RecordId` (a record's id: digits, as
a string) and `Code` (a lower-case code such as an approval template's). A field without a
default is required. The messages are for the client (the gateway answers them as 422
naming `params`).
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

P = TypeVar("P")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class RecordId(str):
    """The id of a record (a contract, a spend, a user): digits."""


class Code(str):
    """A code: lower-case letters, digits and `_`, starting with a letter."""


class NoParams:
    """The params of a process that takes none."""


def param(*, help: str, default: Any = dataclasses.MISSING) -> Any:
    """A declared parameter; `help` completes "<name> is required: ..." and similar."""
    return dataclasses.field(default=default, metadata={"help": help})


def parse(kind: type[P], raw: Mapping[str, Any]) -> P:
    """The typed params of `raw`; ValueError with the message for the client."""
    if kind.__name__ == NoParams.__name__:
        if raw:
            raise ValueError(f"unknown parameter(s): {', '.join(sorted(raw))}; expected: none")
        return kind()
    fields = dataclasses.fields(kind)  # type: ignore[arg-type]
    names = [f.name for f in fields]
    unknown = sorted(set(raw) - set(names))
    if unknown:
        raise ValueError(
            f"unknown parameter(s): {', '.join(unknown)}; expected: {', '.join(names)}"
        )
    hints = typing.get_type_hints(kind)
    values = {}
    for f in fields:
        value = raw.get(f.name)
        if value is None or value == "":
            if f.default is dataclasses.MISSING:
                raise ValueError(f"{f.name} is required: {f.metadata.get('help', '')}")
            continue
        values[f.name] = _read(f.name, hints[f.name], value, f)
    return kind(**values)


def _kind(hint: Any) -> str:
    """The type's name: compared by name, because inside the workflow sandbox `date` and
    the kit's own classes are the sandbox's copies, not these objects."""
    if typing.get_origin(hint) is list:
        (item,) = typing.get_args(hint)
        return f"list[{getattr(item, '__name__', item)}]"
    return str(getattr(hint, "__name__", hint))


def _read(name: str, hint: Any, raw: Any, f: dataclasses.Field[Any]) -> Any:
    help_ = f.metadata.get("help", "")
    kind = _kind(hint)
    if kind == "RecordId":
        if isinstance(raw, bool) or not str(raw).isdigit():
            raise ValueError(f"{name} is required: {help_}")
        return str(raw)
    if kind == "Code":
        if not isinstance(raw, str) or not _CODE.match(raw):
            raise ValueError(f"{name} must be {help_}, got {raw!r}")
        return raw
    if kind == "date":
        if not isinstance(raw, str):
            raise ValueError(f"{name} must be an ISO date string (YYYY-MM-DD), got {raw!r}")
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"{name} must be an ISO date (YYYY-MM-DD), got {raw!r}") from None
    if kind == "bool":
        if not isinstance(raw, bool):
            raise ValueError(f"{name} must be true or false, got {raw!r}")
        return raw
    if kind == "int":
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError(f"{name} must be a whole number, got {raw!r}")
        return raw
    if kind == "str":
        if not isinstance(raw, str):
            raise ValueError(f"{name} must be a string, got {raw!r}")
        return raw
    if kind == "list[str]":
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise ValueError(f"{name} must be a list of strings, got {raw!r}")
        return list(raw)
    if kind == "list[int]":
        if not isinstance(raw, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in raw
        ):
            raise ValueError(f"{name} must be a list of whole numbers (0 or more), got {raw!r}")
        return list(raw)
    raise TypeError(f"parameter {name}: unsupported type {hint!r}")  # a declaration bug


def describe(kind: type[Any]) -> list[dict[str, Any]]:
    """The declared parameters, for documentation and clients: name, type, required, help."""
    if kind.__name__ == NoParams.__name__:
        return []
    hints = typing.get_type_hints(kind)
    return [
        {
            "name": f.name,
            "type": _kind(hints[f.name]),
            "required": f.default is dataclasses.MISSING,
            "help": f.metadata.get("help", ""),
        }
        for f in dataclasses.fields(kind)
    ]
