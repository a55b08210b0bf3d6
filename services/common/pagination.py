"""Keyset pagination: opaque cursors over a descending integer key."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from services.common.errors import FieldProblem, ValidationFailed

T = TypeVar("T")
MAX_LIMIT = 200
DEFAULT_LIMIT = 50


def encode_cursor(key: int) -> str:
    return base64.urlsafe_b64encode(str(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return int(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(FieldProblem("cursor", "is not a cursor this API gave")) from exc


def clamp_limit(limit: int) -> int:
    """0 means the default; above MAX_LIMIT is refused rather than silently cut."""
    if limit == 0:
        return DEFAULT_LIMIT
    if limit < 0 or limit > MAX_LIMIT:
        raise ValidationFailed(FieldProblem("limit", f"must be between 1 and {MAX_LIMIT}"))
    return limit


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str

    @classmethod
    def of(cls, rows: Sequence[T], limit: int, *, key: Callable[[T], int]) -> Page[T]:
        """`rows` were fetched with limit + 1: the extra row tells there is a next page."""
        items = list(rows[:limit])
        more = len(rows) > limit
        return cls(items, encode_cursor(key(items[-1])) if more and items else "")
