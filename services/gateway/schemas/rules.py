"""Stage automation rules of a pipeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.common.protoconv import from_struct
from services.gateway.schemas.common import Input, RecordId, timestamp

Event = Literal["enter", "leave"]
Action = Literal["start_process"]


class RuleIn(Input):
    stage_id: RecordId
    event: Event = Field(description="enter | leave: the deal enters or leaves the stage")
    action: Action = "start_process"
    process: str = Field(min_length=1, max_length=63, examples=["client_onboarding"])
    params: dict[str, Any] = Field({}, description="the process's start parameters")
    active: bool = True


class RulePatch(Input):
    """Only the fields present change."""

    stage_id: RecordId | None = None
    event: Event | None = None
    action: Action | None = None
    process: str | None = Field(None, min_length=1, max_length=63)
    params: dict[str, Any] | None = None
    active: bool | None = None


class RuleOut(BaseModel):
    id: int
    pipeline_id: int
    stage_id: int
    event: str
    action: str
    process: str
    params: dict[str, Any]
    active: bool
    created_at: datetime | None

    @classmethod
    def of(cls, msg: Any) -> RuleOut:
        return cls(
            id=int(msg.id),
            pipeline_id=int(msg.pipeline_id),
            stage_id=int(msg.stage_id),
            event=msg.event,
            action=msg.action,
            process=msg.process,
            params=from_struct(msg.params),
            active=msg.active,
            created_at=timestamp(msg, "created_at"),
        )
