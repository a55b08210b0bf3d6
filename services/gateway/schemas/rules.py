"""Automation rules of a pipeline (the shape: services/deals/domain/rules.py), their
versions and dry runs. The first shape, `{"stage_id", "event", "process", "params"}`, is
still taken: it means `{"trigger": {"event", "stage_id"}, "actions": [{"type":
"start_process", "process", "params"}]}`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.common.protoconv import from_struct
from services.gateway.schemas.common import Input, RecordId, timestamp

Event = Literal["enter", "leave"]
Action = Literal["start_process"]
LEGACY = ("stage_id", "event", "action", "process", "params")
SHAPE = ("name", "trigger", "condition", "delay", "keep_on_leave", "actions", "active")


class RuleShape(Input):
    name: str | None = Field(None, max_length=200, examples=["Discuss the lead"])
    trigger: dict[str, Any] | None = Field(
        None,
        description="created | enter / leave a stage (stage_id) | field_changed (field, from, "
        "to) | activity_logged | process_finished",
        examples=[{"event": "enter", "stage_id": 12}],
    )
    condition: dict[str, Any] | None = Field(
        None, examples=[{"all": [{"field": "source", "op": "not_empty"}]}]
    )
    delay: dict[str, Any] | None = Field(
        None,
        description="seconds/minutes/hours/days, business_days, or {field, offset}",
        examples=[{"seconds": 604800}],
    )
    keep_on_leave: bool | None = Field(
        None, description="a delayed run goes on after the deal leaves the stage"
    )
    actions: list[dict[str, Any]] | None = Field(None, max_length=20)
    # The first shape:
    stage_id: RecordId | None = None
    event: Event | None = None
    action: Action | None = None
    process: str | None = Field(None, min_length=1, max_length=63)
    params: dict[str, Any] | None = None


class RuleIn(RuleShape):
    active: bool = True

    def legacy(self) -> bool:
        return self.trigger is None and self.actions is None and self.stage_id is not None

    def definition(self) -> dict[str, Any]:
        """The rule shape this body means."""
        if self.legacy():
            return {
                "name": self.name or f"{self.process} on {self.event}",
                "active": self.active,
                "trigger": {"event": self.event, "stage_id": self.stage_id},
                "actions": [
                    {"type": "start_process", "process": self.process, "params": self.params or {}}
                ],
            }
        given = self.model_dump(include=set(SHAPE), exclude_none=True)
        return {"active": self.active, **given}


class RulePatch(RuleShape):
    """Only the keys present change; a null removes condition, delay or keep_on_leave."""

    active: bool | None = None


class RuleOut(BaseModel):
    id: int
    pipeline_id: int
    name: str
    version: int
    active: bool
    trigger: dict[str, Any]
    condition: dict[str, Any] | None
    delay: dict[str, Any] | None
    keep_on_leave: bool
    actions: list[dict[str, Any]]
    created_at: datetime | None
    updated_at: datetime | None
    # The first shape, filled when the rule has it:
    stage_id: int | None
    event: str
    action: str
    process: str
    params: dict[str, Any]

    @classmethod
    def of(cls, msg: Any) -> RuleOut:
        definition = from_struct(msg.definition)
        return cls(
            id=int(msg.id),
            pipeline_id=int(msg.pipeline_id),
            name=definition.get("name", ""),
            version=msg.version,
            active=msg.active,
            trigger=definition.get("trigger", {}),
            condition=definition.get("condition"),
            delay=definition.get("delay"),
            keep_on_leave=bool(definition.get("keep_on_leave", False)),
            actions=definition.get("actions", []),
            created_at=timestamp(msg, "created_at"),
            updated_at=timestamp(msg, "updated_at"),
            stage_id=int(msg.stage_id) if msg.stage_id else None,
            event=msg.event,
            action=msg.action,
            process=msg.process,
            params=from_struct(msg.params),
        )


class RuleVersionOut(BaseModel):
    rule_id: int
    version: int
    definition: dict[str, Any]
    actor_id: int | None
    created_at: datetime | None

    @classmethod
    def of(cls, msg: Any) -> RuleVersionOut:
        return cls(
            rule_id=int(msg.rule_id),
            version=msg.version,
            definition=from_struct(msg.definition),
            actor_id=int(msg.actor_id) if msg.actor_id else None,
            created_at=timestamp(msg, "created_at"),
        )


class DryRunIn(Input):
    """The record to try the rules on: `deal_id` on a pipeline, `lead_id` on a lead funnel
    (exactly one of them)."""

    deal_id: RecordId | None = None
    lead_id: RecordId | None = None
    trigger: dict[str, Any] = Field(examples=[{"event": "enter", "stage_id": 12}])


class DryRunOut(BaseModel):
    """Each rule the trigger would fire: its condition's result and reason, the delay's
    due time and the actions with their resolved values. Nothing was changed."""

    rules: list[dict[str, Any]]
