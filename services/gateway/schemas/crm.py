"""Contacts, companies, leads, exclusions and the mail intake."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.common.protoconv import from_struct
from services.gateway.problems import ProblemModel
from services.gateway.schemas.common import Input, RecordId, id_or_none, ids, timestamp
from services.gateway.schemas.deals import EntryOut

Text = Field(None, max_length=200)


class ContactIn(Input):
    name: str = Field(min_length=1, max_length=200)
    emails: list[str] = Field([], max_length=20)
    phones: list[str] = Field([], max_length=20, examples=[["+7 912 345-67-89"]])
    company_id: RecordId | None = None
    position: str | None = Text
    responsible_id: RecordId | None = Field(None, description="omitted: the caller")
    fields: dict[str, Any] = {}
    allow_duplicate: bool = Field(False, description="create even if an e-mail or phone is known")


class ContactPatch(Input):
    """Only the attributes present change; in `fields`, null clears a value."""

    name: str | None = Field(None, min_length=1, max_length=200)
    emails: list[str] | None = Field(None, max_length=20)
    phones: list[str] | None = Field(None, max_length=20)
    company_id: RecordId | None = None
    position: str | None = Text
    responsible_id: RecordId | None = None
    fields: dict[str, Any] | None = None


class ContactMerge(Input):
    contact_id: RecordId = Field(description="the contact merged into this one (it is retired)")


class ContactOut(BaseModel):
    id: int
    name: str
    emails: list[str]
    phones: list[str]
    company_id: int | None
    position: str
    responsible_id: int | None
    fields: dict[str, Any]
    version: int
    merged_into_id: int | None
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, msg: Any) -> ContactOut:
        return cls(
            id=int(msg.id),
            name=msg.name,
            emails=list(msg.emails),
            phones=list(msg.phones),
            company_id=id_or_none(msg.company_id),
            position=msg.position,
            responsible_id=id_or_none(msg.responsible_id),
            fields=from_struct(msg.fields),
            version=msg.version,
            merged_into_id=id_or_none(msg.merged_into_id),
            created_at=timestamp(msg, "created_at"),
            updated_at=timestamp(msg, "updated_at"),
        )


class DuplicateProblem(ProblemModel):
    """409 of a contact whose e-mail or phone is on file: the contact that has it."""

    existing_id: int


class CompanyIn(Input):
    name: str = Field(min_length=1, max_length=200)
    registration_ids: dict[str, str] = Field({}, examples=[{"inn": "7707083893"}])
    addresses: list[str] = Field([], max_length=20)
    responsible_id: RecordId | None = None
    fields: dict[str, Any] = {}


class CompanyPatch(Input):
    """Only the attributes present change; in `fields`, null clears a value."""

    name: str | None = Field(None, min_length=1, max_length=200)
    registration_ids: dict[str, str] | None = None
    addresses: list[str] | None = Field(None, max_length=20)
    responsible_id: RecordId | None = None
    fields: dict[str, Any] | None = None


class CompanyOut(BaseModel):
    id: int
    name: str
    registration_ids: dict[str, str]
    addresses: list[str]
    responsible_id: int | None
    fields: dict[str, Any]
    version: int
    created_at: datetime | None

    @classmethod
    def of(cls, msg: Any) -> CompanyOut:
        return cls(
            id=int(msg.id),
            name=msg.name,
            registration_ids=dict(msg.registration_ids),
            addresses=list(msg.addresses),
            responsible_id=id_or_none(msg.responsible_id),
            fields=from_struct(msg.fields),
            version=msg.version,
            created_at=timestamp(msg, "created_at"),
        )


class DealPartiesIn(Input):
    contact_ids: list[RecordId] = Field([], max_length=50)
    company_id: RecordId | None = None


class LeadIn(Input):
    pipeline_id: RecordId = Field(description="a lead funnel (pipeline of kind lead)")
    title: str = Field(min_length=1, max_length=200)
    contact_id: RecordId | None = None
    company_id: RecordId | None = None
    source: str | None = Text
    responsible_id: RecordId | None = Field(None, description="omitted: the caller")
    stage_id: RecordId | None = Field(None, description="omitted: the funnel's first stage")
    fields: dict[str, Any] = {}


class LeadPatch(Input):
    title: str | None = Field(None, min_length=1, max_length=200)
    source: str | None = Text
    contact_id: RecordId | None = None
    company_id: RecordId | None = None
    responsible_id: RecordId | None = None
    fields: dict[str, Any] | None = None


class LeadMove(Input):
    stage_id: RecordId
    comment: str | None = Field(None, max_length=2000)


class LeadConvert(Input):
    pipeline_id: RecordId | None = Field(None, description="omitted: the first pipeline of deals")
    stage_id: RecordId | None = Field(None, description="omitted: that pipeline's first stage")
    responsible_id: RecordId | None = Field(None, description="omitted: the lead's responsible")


class LeadOut(BaseModel):
    id: int
    pipeline_id: int
    stage_id: int
    stage_semantic: str
    title: str
    source: str
    contact_id: int | None
    company_id: int | None
    responsible_id: int | None
    fields: dict[str, Any]
    deal_id: int | None
    version: int
    created_at: datetime | None
    updated_at: datetime | None
    stage_entered_at: datetime | None

    @classmethod
    def of(cls, msg: Any) -> LeadOut:
        return cls(
            id=int(msg.id),
            pipeline_id=int(msg.pipeline_id),
            stage_id=int(msg.stage_id),
            stage_semantic=msg.stage_semantic,
            title=msg.title,
            source=msg.source,
            contact_id=id_or_none(msg.contact_id),
            company_id=id_or_none(msg.company_id),
            responsible_id=id_or_none(msg.responsible_id),
            fields=from_struct(msg.fields),
            deal_id=id_or_none(msg.deal_id),
            version=msg.version,
            created_at=timestamp(msg, "created_at"),
            updated_at=timestamp(msg, "updated_at"),
            stage_entered_at=timestamp(msg, "stage_entered_at"),
        )


class Converted(BaseModel):
    deal_id: int
    lead: LeadOut


class LeadEntryOut(EntryOut):
    lead_id: int

    @classmethod
    def of(cls, msg: Any) -> LeadEntryOut:
        return cls(lead_id=int(msg.lead_id), **EntryOut.fields_of(msg))


class ExclusionIn(Input):
    kind: Literal["email", "phone", "domain"]
    value: str = Field(min_length=1, max_length=254)
    reason: str | None = Field(None, max_length=500)


class ExclusionOut(BaseModel):
    id: int
    kind: str
    value: str
    reason: str
    lead_id: int | None
    actor_id: int | None
    created_at: datetime | None

    @classmethod
    def of(cls, msg: Any) -> ExclusionOut:
        return cls(
            id=int(msg.id),
            kind=msg.kind,
            value=msg.value,
            reason=msg.reason,
            lead_id=id_or_none(msg.lead_id),
            actor_id=id_or_none(msg.actor_id),
            created_at=timestamp(msg, "created_at"),
        )


class IntakeMessageOut(BaseModel):
    id: int
    message_id: str
    sender: str
    subject: str
    size: int
    outcome: str = Field(
        description="lead_created | attached_to_lead | attached_to_deal | excluded"
    )
    reason: str
    lead_id: int | None
    deal_id: int | None
    contact_id: int | None
    file_ids: list[int]
    received_at: datetime | None

    @classmethod
    def of(cls, msg: Any) -> IntakeMessageOut:
        return cls(
            id=int(msg.id),
            message_id=msg.message_id,
            sender=msg.sender,
            subject=msg.subject,
            size=msg.size,
            outcome=msg.outcome,
            reason=msg.reason,
            lead_id=id_or_none(msg.lead_id),
            deal_id=id_or_none(msg.deal_id),
            contact_id=id_or_none(msg.contact_id),
            file_ids=ids(msg.file_ids),
            received_at=timestamp(msg, "received_at"),
        )


class IntakeSettingsIn(Input):
    pipeline_id: RecordId | None = Field(None, description="omitted: the first lead funnel")
    responsible_id: RecordId | None = Field(None, description="omitted: the first admin")


class IntakeSettingsOut(BaseModel):
    pipeline_id: int | None
    responsible_id: int | None

    @classmethod
    def of(cls, msg: Any) -> IntakeSettingsOut:
        return cls(
            pipeline_id=id_or_none(msg.pipeline_id), responsible_id=id_or_none(msg.responsible_id)
        )


class LeadCaptureIn(Input):
    """A request from a web form or another lead-generation channel."""

    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=50)
    title: str | None = Text
    message: str | None = Field(None, max_length=5000)
    source: str | None = Field(None, max_length=200, examples=["conference site"])
    pipeline_id: RecordId | None = Field(None, description="omitted: the intake's lead funnel")
    fields: dict[str, Any] = {}
    website: str | None = Field(
        None, max_length=500, description="a honeypot: keep the form's field hidden and empty"
    )


class CaptureOut(BaseModel):
    lead_id: int | None
    contact_id: int | None
    duplicate: bool = Field(description="the contact's open lead took the request")


class ImportProblemOut(BaseModel):
    field: str
    message: str


class ImportOut(BaseModel):
    dry_run: bool
    rows: int
    created: int = Field(description="(a dry run: would be created)")
    updated: int
    problems: list[ImportProblemOut]

    @classmethod
    def of(cls, replies: list[Any], *, dry_run: bool) -> ImportOut:
        return cls(
            dry_run=dry_run,
            rows=sum(r.rows for r in replies),
            created=sum(r.created for r in replies),
            updated=sum(r.updated for r in replies),
            problems=[
                ImportProblemOut(field=p.field, message=p.message)
                for r in replies
                for p in r.problems
            ],
        )
