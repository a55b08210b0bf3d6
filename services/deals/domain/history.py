"""What a deal went through: its visits to stages and its timeline."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.common.errors import FieldProblem, ValidationFailed

KIND = re.compile(r"^[a-z][a-z0-9_.]{0,62}$")
# Kinds the service writes itself as a deal changes; clients add the others.
SYSTEM_KINDS = frozenset({"created", "updated", "stage_changed"})
MAX_TEXT = 10_000
MAX_KEY = 300


@dataclass(frozen=True)
class StageVisit:
    stage_id: int
    entered_at: datetime
    left_at: datetime | None
    actor_id: int | None

    def seconds(self, now: datetime) -> float:
        """Time spent in the stage, up to now while the deal is still there."""
        return max(0.0, ((self.left_at or now) - self.entered_at).total_seconds())


@dataclass(frozen=True)
class TimelineEntry:
    id: int
    deal_id: int
    kind: str
    text: str
    actor_id: int | None
    data: dict[str, Any]
    created_at: datetime


def check_entry(kind: str, text: str, idempotency_key: str) -> None:
    """A client's timeline entry: a known-shaped kind that is not one the service writes."""
    problems: list[FieldProblem] = []
    if not KIND.match(kind):
        problems.append(FieldProblem("kind", "must match ^[a-z][a-z0-9_.]{0,62}$"))
    elif kind in SYSTEM_KINDS:
        problems.append(FieldProblem("kind", f"{kind} entries are written by the service"))
    if len(text) > MAX_TEXT:
        problems.append(FieldProblem("text", f"must be at most {MAX_TEXT} characters"))
    if len(idempotency_key) > MAX_KEY:
        problems.append(FieldProblem("idempotency_key", f"must be at most {MAX_KEY} characters"))
    if problems:
        raise ValidationFailed(problems)
