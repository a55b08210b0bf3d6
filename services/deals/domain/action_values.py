"""Small checks the actions of a rule share (services/deals/domain/actions.py and
lead_actions.py): a text of bounded length, and a record id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.common.errors import FieldProblem

MAX_TEXT = 2000


def text_problems(
    action: Mapping[str, Any], key: str, path: str, *, required: bool
) -> list[FieldProblem]:
    value = action.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > MAX_TEXT:
        need = "1" if required else "0"
        return [FieldProblem(f"{path}.{key}", f"must be {need} to {MAX_TEXT} characters")]
    return []


def record_id(value: Any) -> int | None:
    """A positive id (an int or its digits), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return int(value)
    return None
