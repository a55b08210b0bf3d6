"""REST shapes of activities and reminder plans."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.common.protoconv import from_struct
from services.gateway.schemas.common import Input, IsoDateTime, id_or_none, timestamp

Channel = Literal["letters", "calls", "meetings"]


class ActivityIn(Input):
    kind: Literal["call", "email", "meeting"]
    status: Literal["planned", "done"] = "planned"
    due_at: IsoDateTime | None = Field(None, description="planned: when it is due (required)")
    done_at: IsoDateTime | None = Field(None, description="done: when (default now)")
    assignee_id: int | None = Field(None, gt=0, description="default: the caller")
    subject: str = Field("", max_length=10_000)
    outcome: str = Field("", max_length=10_000)
    notes: str = Field("", max_length=10_000)


class ActivityDoneIn(Input):
    outcome: str = Field("", max_length=10_000)
    notes: str = Field("", max_length=10_000)


class ActivityOut(BaseModel):
    id: int
    kind: str
    status: str
    deal_id: int | None
    lead_id: int | None
    contact_id: int | None
    assignee_id: int | None
    due_at: datetime | None
    done_at: datetime | None
    subject: str
    outcome: str
    notes: str
    plan_id: int | None
    created_at: datetime | None

    @classmethod
    def of(cls, msg: Any) -> ActivityOut:
        return cls(
            id=int(msg.id),
            kind=msg.kind,
            status=msg.status,
            deal_id=id_or_none(msg.deal_id),
            lead_id=id_or_none(msg.lead_id),
            contact_id=id_or_none(msg.contact_id),
            assignee_id=id_or_none(msg.assignee_id),
            due_at=timestamp(msg, "due_at"),
            done_at=timestamp(msg, "done_at"),
            subject=msg.subject,
            outcome=msg.outcome,
            notes=msg.notes,
            plan_id=id_or_none(msg.plan_id),
            created_at=timestamp(msg, "created_at"),
        )


class FrequencyIn(Input):
    count: int = Field(gt=0, le=100)
    per: Literal["year", "quarter", "month"]


class PlanIn(Input):
    deal_id: int | None = Field(None, gt=0, description="a deal (of the Reminder pipeline)")
    contact_id: int | None = Field(None, gt=0, description="or a client (a contact)")
    responsible_id: int | None = Field(None, gt=0, description="default: the record's")
    needs: list[str] = Field([], max_length=50, examples=[["catalogue", "samples"]])
    frequencies: dict[Channel, FrequencyIn] = Field(
        examples=[{"calls": {"count": 2, "per": "month"}, "letters": {"count": 1, "per": "month"}}]
    )


class PlanPatch(Input):
    needs: list[str] | None = Field(None, max_length=50)
    frequencies: dict[Channel, FrequencyIn] | None = None
    responsible_id: int | None = Field(None, gt=0)
    status: Literal["active", "stopped"] | None = None


class PlanOut(BaseModel):
    id: int
    deal_id: int | None
    contact_id: int | None
    responsible_id: int
    needs: list[str]
    frequencies: dict[str, dict[str, Any]]
    status: str
    version: int
    next_due: dict[str, str] = Field(description="per channel, when its next reminder is due")
    workflow_id: str
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, struct: Any) -> PlanOut:
        raw = from_struct(struct)
        return cls(
            **{
                **raw,
                "id": int(raw["id"]),
                "deal_id": id_or_none(raw["deal_id"]),
                "contact_id": id_or_none(raw["contact_id"]),
                "responsible_id": int(raw["responsible_id"]),
            }
        )
