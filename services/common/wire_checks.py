"""Checks every request gets before a servicer sees it: what no service can store.

PostgreSQL text cannot hold a NUL character; without this check a NUL in any string field
reached the database and came back as an internal error instead of the caller's mistake.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from services.common.errors import FieldProblem

_MAX_DEPTH = 32
# JSON-like wrappers: their own field names are not part of the path a caller knows.
_TRANSPARENT = {"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"}


def nul_problems(message: Message) -> list[FieldProblem]:
    """One problem per string (field, map key, Struct value) that contains a NUL."""
    return [
        FieldProblem(".".join(path), "must not contain NUL characters")
        for path, text in _strings(message, (), 0)
        if "\x00" in text
    ]


Path = tuple[str, ...]


def _strings(message: Message, prefix: Path, depth: int) -> Iterator[tuple[Path, str]]:
    if depth > _MAX_DEPTH:
        return
    transparent = message.DESCRIPTOR.full_name in _TRANSPARENT
    for field, value in message.ListFields():
        path = prefix if transparent else (*prefix, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            yield from _map(field, value, path, depth)
        elif field.type == FieldDescriptor.TYPE_STRING:
            items = value if field.is_repeated else [value]
            yield from ((path, str(v)) for v in items)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.is_repeated:
                for i, item in enumerate(value):
                    yield from _strings(item, (*path, str(i)), depth + 1)
            else:
                yield from _strings(value, path, depth + 1)


def _map(field: FieldDescriptor, value: Any, path: Path, depth: int) -> Iterator[tuple[Path, str]]:
    entry = field.message_type
    assert entry is not None  # a map field's entry type
    value_field = entry.fields_by_name["value"]
    for key, item in value.items():
        at = (*path, str(key))
        if isinstance(key, str):
            yield at, key
        if value_field.type == FieldDescriptor.TYPE_STRING:
            yield at, str(item)
        elif value_field.type == FieldDescriptor.TYPE_MESSAGE:
            yield from _strings(item, at, depth + 1)
