"""Outbox events of contacts, companies, leads and the exclusion list (`deals.lead.*`,
`deals.contact.*`, `deals.company.*`, `deals.exclusion.*`), shaped like the deal events."""

from __future__ import annotations

from typing import Any

from services.common.db import PendingEvent
from services.deals.domain.contacts import Company, Contact
from services.deals.domain.leads import (
    Lead,
    LeadConverted,
    LeadCreated,
    LeadEvent,
    LeadStageChanged,
    LeadUpdated,
)
from services.deals.domain.pipelines import Pipeline
from services.deals.events import automation_facts


def _actor(actor_id: int | None) -> str:
    return "" if actor_id is None else str(actor_id)


def lead_summary(lead: Lead) -> dict[str, Any]:
    return {
        "id": str(lead.id),
        "title": lead.title,
        "pipeline_id": str(lead.pipeline_id),
        "stage_id": str(lead.stage_id),
        "responsible_id": str(lead.responsible_id),
        "contact_id": None if lead.contact_id is None else str(lead.contact_id),
    }


def lead_event(event: LeadEvent, lead: Lead, funnel: Pipeline | None = None) -> PendingEvent:
    """The outbox event; with the lead's `funnel` (the lead read under its lock), the
    `automation_facts` the worker's triggers read."""
    pending = _lead_pending(event, lead)
    if funnel is not None:
        pending.data |= automation_facts(lead.waiting_runs, (funnel,))
    return pending


def _lead_pending(event: LeadEvent, lead: Lead) -> PendingEvent:
    subject = f"lead/{lead.id}"
    summary = lead_summary(lead)
    data: dict[str, Any]
    match event:
        case LeadCreated(actor_id=actor_id):
            data = {"lead": summary, "after": lead.attributes()}
            return PendingEvent("deals.lead.created", subject, data, actor=_actor(actor_id))
        case LeadUpdated(actor_id=actor_id, before=before, after=after):
            data = {"lead": summary, "before": before, "after": after}
            return PendingEvent("deals.lead.updated", subject, data, actor=_actor(actor_id))
        case LeadStageChanged():
            data = {
                "lead": summary,
                "from_stage_id": str(event.from_stage_id),
                "to_stage_id": str(event.to_stage_id),
                "from_stage": event.from_stage,
                "to_stage": event.to_stage,
                "transition": event.transition,
                "seconds_in_previous_stage": event.seconds_in_previous_stage,
                "comment": event.comment,
                "before": {"stage_id": str(event.from_stage_id)},
                "after": {"stage_id": str(event.to_stage_id)},
            }
            actor = _actor(event.actor_id)
            return PendingEvent("deals.lead.stage_changed", subject, data, actor=actor)
        case LeadConverted(actor_id=actor_id, deal_id=deal_id, pipeline_id=pipeline_id):
            data = {"lead": summary, "deal_id": str(deal_id), "pipeline_id": str(pipeline_id)}
            return PendingEvent("deals.lead.converted", subject, data, actor=_actor(actor_id))
    raise AssertionError(f"unknown lead event {event!r}")


def lead_entry(event: LeadEvent) -> tuple[str, str, dict[str, Any]]:
    """The lead timeline entry of an event: kind, text, data."""
    match event:
        case LeadCreated():
            return "created", "Lead created", {}
        case LeadUpdated(before=before, after=after):
            return "updated", "Changed " + ", ".join(after), {"before": before, "after": after}
        case LeadStageChanged():
            text = f"{event.from_stage} → {event.to_stage}"
            text += f": {event.comment}" if event.comment else ""
            data = {
                "from_stage_id": str(event.from_stage_id),
                "to_stage_id": str(event.to_stage_id),
                "transition": event.transition,
            }
            return "stage_changed", text, data
        case LeadConverted(deal_id=deal_id):
            return "converted", f"Converted into deal {deal_id}", {"deal_id": str(deal_id)}
    raise AssertionError(f"unknown lead event {event!r}")


def contact_event(kind: str, contact: Contact, actor_id: int | None, **extra: Any) -> PendingEvent:
    data = {"contact": {"id": str(contact.id), "name": contact.name}, **extra}
    if kind == "created":
        data["after"] = contact.attributes()
    return PendingEvent(
        f"deals.contact.{kind}", f"contact/{contact.id}", data, actor=_actor(actor_id)
    )


def company_event(kind: str, company: Company, actor_id: int | None) -> PendingEvent:
    data = {
        "company": {"id": str(company.id), "name": company.name},
        "after": {"name": company.name, "registration_ids": company.registration_ids},
    }
    return PendingEvent(
        f"deals.company.{kind}", f"company/{company.id}", data, actor=_actor(actor_id)
    )
