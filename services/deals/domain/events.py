"""What happened to a deal, in the past tense. The service turns these into outbox events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DealCreated:
    actor_id: int | None


@dataclass(frozen=True)
class DealUpdated:
    """Only the attributes that changed, with their values before and after."""

    actor_id: int | None
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass(frozen=True)
class DealStageChanged:
    actor_id: int | None
    from_stage_id: int
    to_stage_id: int
    from_stage: str
    to_stage: str
    transition: str
    seconds_in_previous_stage: float
    comment: str
    from_pipeline_id: int
    to_pipeline_id: int
    dropped_fields: dict[str, Any] = field(default_factory=dict)


DealEvent = DealCreated | DealUpdated | DealStageChanged
