"""Deals, their moves, timeline, stage history and processes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.common.protoconv import from_struct
from services.gateway.schemas.activities import ActivityOut
from services.gateway.schemas.common import (
    Amount,
    Input,
    RecordId,
    id_or_none,
    ids,
    str_or_none,
    timestamp,
)


class DealIn(Input):
    pipeline_id: RecordId
    title: str = Field(min_length=1)
    responsible_id: RecordId | None = Field(None, description="omitted: the caller")
    amount: Amount | None = None
    currency: str | None = None
    company_name: str | None = None
    contact_name: str | None = None
    stage_id: RecordId | None = Field(None, description="omitted: the pipeline's first stage")
    fields: dict[str, Any] = Field({}, description="custom field values by field code")


class DealPatch(Input):
    """Only the attributes present change; in `fields`, null clears a value."""

    title: str | None = Field(None, min_length=1)
    responsible_id: RecordId | None = None
    amount: Amount | None = None
    currency: str | None = None
    company_name: str | None = None
    contact_name: str | None = None
    fields: dict[str, Any] | None = None


class DealMove(Input):
    stage_id: RecordId
    pipeline_id: RecordId | None = Field(None, description="set to move into another pipeline")
    comment: str | None = None


class DealLinkOut(BaseModel):
    """A deal linked to this one: `created_from` (a rule of that deal made this one) or
    `created` (a rule of this deal made that one)."""

    deal_id: int
    relation: str


class DealPartiesOut(BaseModel):
    """A deal's contacts, its company and the lead it came from."""

    deal_id: int
    contact_ids: list[int]
    company_id: int | None
    lead_id: int | None

    @classmethod
    def of(cls, msg: Any) -> DealPartiesOut:
        return cls(
            deal_id=int(msg.deal_id),
            contact_ids=ids(msg.contact_ids),
            company_id=id_or_none(msg.company_id),
            lead_id=id_or_none(msg.lead_id),
        )


class DealOut(BaseModel):
    id: int
    pipeline_id: int
    stage_id: int
    stage_semantic: str
    title: str
    responsible_id: int | None
    amount: str | None
    currency: str | None
    company_name: str | None
    contact_name: str | None
    fields: dict[str, Any]
    version: int
    created_at: datetime | None
    updated_at: datetime | None
    stage_entered_at: datetime | None
    links: list[DealLinkOut] = []
    next_activity: ActivityOut | None = None  # the earliest planned activity
    href: str = ""  # the deal's own resource, for rows of lists and reports
    # On the deal's card (GET /deals/{id}); lists leave it out.
    parties: DealPartiesOut | None = None
    # Where the deal's folder and chat are (every deal has both).
    folder_url: str = ""
    chat_url: str = ""

    @classmethod
    def of(cls, msg: Any) -> DealOut:
        return cls(
            id=int(msg.id),
            pipeline_id=int(msg.pipeline_id),
            stage_id=int(msg.stage_id),
            stage_semantic=msg.stage_semantic,
            title=msg.title,
            responsible_id=id_or_none(msg.responsible_id),
            amount=str_or_none(msg.amount),
            currency=str_or_none(msg.currency),
            company_name=str_or_none(msg.company_name),
            contact_name=str_or_none(msg.contact_name),
            fields=from_struct(msg.fields),
            version=msg.version,
            created_at=timestamp(msg, "created_at"),
            updated_at=timestamp(msg, "updated_at"),
            stage_entered_at=timestamp(msg, "stage_entered_at"),
            links=[DealLinkOut(deal_id=int(x.deal_id), relation=x.relation) for x in msg.links],
            folder_url=f"/api/v1/deals/{msg.id}/folder",
            chat_url=f"/api/v1/deals/{msg.id}/chat",
            next_activity=ActivityOut.of(msg.next_activity)
            if msg.HasField("next_activity")
            else None,
            href=f"/api/v1/deals/{int(msg.id)}",
        )


class EntryOut(BaseModel):
    """A timeline entry: what a deal's and a lead's timelines share."""

    id: int
    kind: str
    text: str
    actor_id: int | None
    data: dict[str, Any]
    created_at: datetime | None

    @staticmethod
    def fields_of(msg: Any) -> dict[str, Any]:
        return {
            "id": int(msg.id),
            "kind": msg.kind,
            "text": msg.text,
            "actor_id": id_or_none(msg.actor_id),
            "data": from_struct(msg.data),
            "created_at": timestamp(msg, "created_at"),
        }


class TimelineEntryOut(EntryOut):
    deal_id: int

    @classmethod
    def of(cls, msg: Any) -> TimelineEntryOut:
        return cls(deal_id=int(msg.deal_id), **EntryOut.fields_of(msg))


class StageVisitOut(BaseModel):
    stage_id: int
    entered_at: datetime | None
    left_at: datetime | None
    seconds_in_stage: float
    actor_id: int | None

    @classmethod
    def of(cls, msg: Any) -> StageVisitOut:
        return cls(
            stage_id=int(msg.stage_id),
            entered_at=timestamp(msg, "entered_at"),
            left_at=timestamp(msg, "left_at"),
            seconds_in_stage=msg.seconds_in_stage,
            actor_id=id_or_none(msg.actor_id),
        )


class StageHistoryOut(BaseModel):
    items: list[StageVisitOut]


class ProcessIn(Input):
    process: str = Field(min_length=1, examples=["sample_return"])
    params: dict[str, Any] = {}


class ProcessStarted(BaseModel):
    workflow_id: str
    process: str
    deal_id: int


class LeadProcessStarted(BaseModel):
    workflow_id: str
    process: str
    lead_id: int


class ProcessOut(BaseModel):
    """A process of a deal as the workflows module describes it."""

    model_config = ConfigDict(extra="allow")

    id: str
    process: str
    status: str
    started_at: datetime | None = None
    closed_at: datetime | None = None
    stage: str | None = None


class ProcessDetail(ProcessOut):
    """One run with its state: the stage, open tasks, every answer (who, when, what), the
    deadlines and the process's own details (e.g. `rounds` of a review loop)."""

    state: dict[str, Any] = {}


class ProcessParam(BaseModel):
    name: str
    type: str
    required: bool
    help: str


class ProcessKind(BaseModel):
    """A process a deal can start (`POST /deals/{id}/processes`)."""

    name: str
    summary: str
    params: list[ProcessParam]
