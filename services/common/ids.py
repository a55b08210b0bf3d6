"""Record ids travel as strings in protos and are bigints in the database."""

from __future__ import annotations

from services.common.errors import FieldProblem, ValidationFailed


def parse_id(value: str, field: str) -> int:
    """A required id; a missing or malformed one is the caller's mistake."""
    try:
        parsed = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(FieldProblem(field, "must be a record id")) from None
    if parsed <= 0 or parsed >= 2**63:
        raise ValidationFailed(FieldProblem(field, "must be a record id"))
    return parsed


def optional_id(value: str, field: str) -> int | None:
    return parse_id(value, field) if value else None
