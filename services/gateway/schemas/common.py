"""Shared pieces of the REST schemas: strict inputs, pages, and proto value helpers."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from services.common.protoconv import from_timestamp

T = TypeVar("T")

# Money travels as a decimal string so no float ever rounds it.
Amount = Annotated[str, Field(pattern=r"^-?\d+(\.\d+)?$", examples=["1500.00"])]
RecordId = Annotated[int, Field(gt=0, lt=2**63)]

_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _iso_text(value: Any) -> Any:
    """Pydantic would read a number (or a numeric string, as every query value is) as a
    Unix time: `?date_to=0` meant 1970. Dates travel as ISO 8601 text only."""
    numeric = isinstance(value, int | float) or (
        isinstance(value, str) and _NUMBER.fullmatch(value) is not None
    )
    if numeric:
        raise ValueError("must be ISO 8601 text (2026-05-31, 2026-05-31T12:00:00Z)")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_text)]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_text)]


class Input(BaseModel):
    """A request body: unknown fields are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def id_or_none(value: str) -> int | None:
    """Proto ids are strings, "" when unset; JSON ids are numbers."""
    return int(value) if value else None


def ids(values: Any) -> list[int]:
    return [int(v) for v in values if v]


def str_or_none(value: str) -> str | None:
    return value or None


def cursor_or_none(value: str) -> str | None:
    return value or None


def timestamp(msg: Any, name: str) -> datetime | None:
    """A Timestamp field of `msg`, None when unset."""
    return from_timestamp(getattr(msg, name), present=msg.HasField(name))
