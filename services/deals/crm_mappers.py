"""Contacts, companies, leads, exclusions and received mail -> crm.v1 protobuf messages."""

from __future__ import annotations

from dealflow.deals.v1 import crm_pb2 as pb

from services.common.protoconv import to_struct, to_timestamp
from services.deals.domain.contacts import Company, Contact
from services.deals.domain.exclusions import Exclusion
from services.deals.domain.leads import Lead
from services.deals.intake_repository import IntakeRecord
from services.deals.leads_repository import LeadEntry


def _id(value: int | None) -> str:
    return "" if value is None else str(value)


def contact_pb(c: Contact) -> pb.Contact:
    return pb.Contact(
        id=str(c.id),
        name=c.name,
        emails=list(c.emails),
        phones=list(c.phones),
        company_id=_id(c.company_id),
        position=c.position,
        responsible_id=str(c.responsible_id),
        fields=to_struct(c.fields),
        version=c.version,
        created_at=to_timestamp(c.created_at),
        updated_at=to_timestamp(c.updated_at),
        merged_into_id=_id(c.merged_into_id),
    )


def company_pb(c: Company) -> pb.Company:
    return pb.Company(
        id=str(c.id),
        name=c.name,
        registration_ids=c.registration_ids,
        addresses=list(c.addresses),
        responsible_id=str(c.responsible_id),
        fields=to_struct(c.fields),
        version=c.version,
        created_at=to_timestamp(c.created_at),
        updated_at=to_timestamp(c.updated_at),
    )


def lead_pb(lead: Lead) -> pb.Lead:
    return pb.Lead(
        id=str(lead.id),
        pipeline_id=str(lead.pipeline_id),
        stage_id=str(lead.stage_id),
        stage_semantic=lead.stage_semantic.value,
        title=lead.title,
        source=lead.source,
        contact_id=_id(lead.contact_id),
        company_id=_id(lead.company_id),
        responsible_id=str(lead.responsible_id),
        fields=to_struct(lead.fields),
        deal_id=_id(lead.deal_id),
        version=lead.version,
        created_at=to_timestamp(lead.created_at),
        updated_at=to_timestamp(lead.updated_at),
        stage_entered_at=to_timestamp(lead.stage_entered_at),
    )


def lead_entry_pb(e: LeadEntry) -> pb.LeadEntry:
    return pb.LeadEntry(
        id=str(e.id),
        lead_id=str(e.lead_id),
        kind=e.kind,
        text=e.text,
        actor_id=_id(e.actor_id),
        data=to_struct(e.data),
        created_at=to_timestamp(e.created_at),
    )


def parties_pb(deal_id: int, links: dict[str, list[int]]) -> pb.DealParties:
    return pb.DealParties(
        deal_id=str(deal_id),
        contact_ids=[str(c) for c in links.get("contact", [])],
        company_id=_id(next(iter(links.get("company", [])), None)),
        lead_id=_id(next(iter(links.get("lead", [])), None)),
    )


def exclusion_pb(e: Exclusion) -> pb.Exclusion:
    return pb.Exclusion(
        id=str(e.id),
        kind=e.kind,
        value=e.value,
        reason=e.reason,
        lead_id=_id(e.lead_id),
        actor_id=_id(e.actor_id),
        created_at=to_timestamp(e.created_at),
    )


def intake_pb(r: IntakeRecord) -> pb.IntakeMessage:
    return pb.IntakeMessage(
        id=str(r.id),
        message_id=r.message_id,
        sender=r.sender,
        subject=r.subject,
        size=r.size,
        outcome=r.outcome,
        reason=r.reason,
        lead_id=_id(r.lead_id),
        deal_id=_id(r.deal_id),
        contact_id=_id(r.contact_id),
        file_ids=[str(f) for f in r.file_ids],
        received_at=to_timestamp(r.received_at),
        duplicate=r.duplicate,
    )
