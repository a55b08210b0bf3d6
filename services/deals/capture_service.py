"""Lead capture (web forms and other lead-generation channels): a request becomes a lead
with its contact, or a note on the contact's open lead when there is one; an excluded
address creates nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from services.common.access import Permission
from services.common.db import UnitOfWork
from services.common.errors import FieldProblem, ValidationFailed
from services.deals import contacts_repository, leads_repository
from services.deals import intake_repository as intake_repo
from services.deals.domain.contacts import clean_name, normalize_email, normalize_phone
from services.deals.domain.exclusions import keys_of
from services.deals.domain.leads import Lead, require_funnel
from services.deals.intake_service import intake_funnel
from services.deals.leads_repository import LeadFilter
from services.deals.leads_service import LeadsService
from services.deals.pipeline_service import pipeline_of
from services.deals.tables import outbox

log = logging.getLogger(__name__)
MAX_MESSAGE = 5000


@dataclass(frozen=True)
class Captured:
    lead: Lead | None
    contact_id: int | None
    duplicate: bool = False
    excluded: bool = False


@dataclass(frozen=True)
class Request:
    pipeline_id: int | None
    title: str
    name: str
    email: str
    phone: str
    source: str
    message: str
    fields: dict[str, Any]


def _checked(request: Request) -> tuple[str, str, str]:
    problems: list[FieldProblem] = []
    name = clean_name(request.name, problems)
    email = normalize_email(request.email) if request.email.strip() else ""
    phone = normalize_phone(request.phone) if request.phone.strip() else ""
    if request.email.strip() and not email:
        problems.append(FieldProblem("email", "is not a valid e-mail"))
    if request.phone.strip() and not phone:
        problems.append(FieldProblem("phone", "is not a valid phone"))
    if not request.email.strip() and not request.phone.strip():
        problems.append(FieldProblem("email", "an e-mail or a phone is required"))
    if len(request.message) > MAX_MESSAGE:
        problems.append(FieldProblem("message", f"must be at most {MAX_MESSAGE} characters"))
    if problems:
        raise ValidationFailed(problems)
    return name, email, phone


class CaptureService:
    def __init__(self, leads: LeadsService) -> None:
        self._leads = leads
        self._engine = leads._engine
        self._now = leads._now

    async def capture(self, *, actor_id: int | None, request: Request) -> Captured:
        """The lead a request became (or joined); the actor (the channel's token user) is
        responsible for what it creates."""
        name, email, phone = _checked(request)
        emails, phones = (email,) if email else (), (phone,) if phone else ()
        async with UnitOfWork(self._engine, outbox) as uow:
            if actor_id is not None:
                guard = await self._leads.contacts.guard(uow.conn, actor_id)
                assert guard is not None
                guard.access.require(Permission.DEALS_CREATE, "this token may not create leads")
            if request.pipeline_id is not None:
                funnel = require_funnel(await pipeline_of(uow.conn, request.pipeline_id))
            else:
                funnel = await intake_funnel(
                    uow.conn, (await intake_repo.get_settings(uow.conn))[0]
                )
            if await intake_repo.matching(uow.conn, keys_of(emails=emails, phones=phones)):
                log.info("captured lead dropped: excluded address", extra={"email": email})
                return Captured(None, None, excluded=True)
            responsible = actor_id or (await intake_repo.get_settings(uow.conn))[1]
            if responsible is None:
                raise ValidationFailed(FieldProblem("responsible_id", "no one to hand leads to"))
            known = await contacts_repository.contacts_with(uow.conn, emails=emails, phones=phones)
            now = self._now()
            if known:
                contact = known[0]
                open_leads = await leads_repository.list_leads(
                    uow.conn,
                    LeadFilter(contact_id=contact.id, open_only=True),
                    before_id=None,
                    limit=1,
                )
                if open_leads:
                    lead = open_leads[0]
                    await leads_repository.add_entry(
                        uow.conn,
                        lead_id=lead.id,
                        kind="capture",
                        text=request.message.strip() or "The contact asked again",
                        actor_id=actor_id,
                        data={"source": request.source.strip() or "web form", "name": name},
                        at=now,
                    )
                    return Captured(lead, contact.id, duplicate=True)
            else:
                values: dict[str, Any] = {
                    "name": name,
                    "emails": emails,
                    "phones": phones,
                    "company_id": None,
                    "position": "",
                    "fields": {},
                }
                contact = await self._leads.contacts.insert_contact(
                    uow, values, responsible, actor_id
                )
            lead = await self._leads.insert_lead(
                uow,
                funnel,
                title=(request.title.strip() or f"Request from {name}")[:200],
                source=(request.source.strip() or "web form")[:200],
                contact_id=contact.id,
                company_id=contact.company_id,
                responsible_id=responsible,
                fields=request.fields,
                stage_id=None,
                actor_id=actor_id,
            )
            if request.message.strip():
                await leads_repository.add_entry(
                    uow.conn,
                    lead_id=lead.id,
                    kind="capture",
                    text=request.message.strip(),
                    actor_id=actor_id,
                    data={"source": lead.source, "name": name},
                    at=now,
                )
            return Captured(lead, contact.id)
