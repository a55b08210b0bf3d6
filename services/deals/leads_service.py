"""Use cases of leads: create, change, move (a spam stage excludes the contact), convert
into a deal, and the lead's timeline. Leads are seen as deals are (per funnel visibility)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.access import Permission
from services.common.db import UnitOfWork
from services.common.errors import FieldProblem, NotFound, PermissionDenied, ValidationFailed
from services.common.pagination import Page, decode_cursor
from services.deals import history_repository, repository
from services.deals import leads_repository as repo
from services.deals.access_service import DealAccess
from services.deals.contacts_service import ContactsService
from services.deals.crm_events import lead_entry, lead_event
from services.deals.domain.deals import new_deal
from services.deals.domain.leads import Lead, conversion_plan, new_lead, require_funnel
from services.deals.domain.pipelines import Kind, Pipeline, Semantic
from services.deals.exclusions_service import exclude_addresses
from services.deals.leads_repository import LeadEntry, LeadFilter
from services.deals.pipeline_service import pipeline_of
from services.deals.service import record_deal, require_active_user
from services.deals.tables import outbox

_REASSIGN = "your role may not make someone else responsible for a lead"


class LeadsService:
    def __init__(self, contacts: ContactsService) -> None:
        self.contacts = contacts
        self._engine = contacts._engine
        self._now = contacts._now

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, outbox)

    async def _guard(self, conn: AsyncConnection, actor_id: int | None) -> DealAccess | None:
        return await self.contacts.guard(conn, actor_id)

    async def visible_lead(
        self, conn: AsyncConnection, actor_id: int | None, lead_id: int, *, for_update: bool = False
    ) -> Lead:
        lead = await repo.get_lead(conn, lead_id, for_update=for_update)
        guard = await self._guard(conn, actor_id)
        if lead is None or (
            guard is not None
            and not guard.sees(pipeline_id=lead.pipeline_id, responsible_id=lead.responsible_id)
        ):
            raise NotFound(f"lead {lead_id} not found")
        return lead

    async def _check_refs(
        self,
        conn: AsyncConnection,
        actor_id: int | None,
        contact_id: int | None,
        company_id: int | None,
    ) -> None:
        if contact_id is not None:
            try:
                await self.contacts.visible_contact(conn, actor_id, contact_id)
            except NotFound:
                raise ValidationFailed(
                    FieldProblem("contact_id", "is not a contact you see")
                ) from None
        if company_id is not None:
            await self.contacts.visible_company(conn, actor_id, company_id, "company_id")

    async def create_lead(
        self,
        *,
        actor_id: int | None,
        pipeline_id: int,
        title: str,
        source: str,
        contact_id: int | None,
        company_id: int | None,
        responsible_id: int | None,
        fields: dict[str, Any],
        stage_id: int | None,
    ) -> Lead:
        """A lead in the funnel's first stage (or `stage_id`); the actor is responsible by
        default."""
        responsible = responsible_id or actor_id
        if responsible is None:
            raise ValidationFailed(FieldProblem("responsible_id", "is required"))
        async with self._uow() as uow:
            guard = await self._guard(uow.conn, actor_id)
            if guard is not None:
                guard.access.require(Permission.DEALS_CREATE, "your role may not create leads")
                if responsible != actor_id:
                    guard.access.require(Permission.DEALS_REASSIGN, _REASSIGN)
                if stage_id is not None and not guard.rights.may_move_into(pipeline_id, stage_id):
                    raise PermissionDenied("your role may not put leads in this stage")
            funnel = await pipeline_of(uow.conn, pipeline_id)
            await require_active_user(uow.conn, responsible)
            await self._check_refs(uow.conn, actor_id, contact_id, company_id)
            return await self.insert_lead(
                uow,
                funnel,
                title=title,
                source=source,
                contact_id=contact_id,
                company_id=company_id,
                responsible_id=responsible,
                fields=fields,
                stage_id=stage_id,
                actor_id=actor_id,
            )

    async def insert_lead(self, uow: UnitOfWork, funnel: Pipeline, **attrs: Any) -> Lead:
        """Store a new lead (checked by the caller) with its events and timeline."""
        now = self._now()
        lead = new_lead(funnel, now=now, **attrs)
        lead.id = await repo.insert_lead(uow.conn, lead)
        await self._record(uow, lead, now, funnel)
        return lead

    async def get_lead(self, *, actor_id: int | None, lead_id: int) -> Lead:
        async with self._engine.connect() as conn:
            return await self.visible_lead(conn, actor_id, lead_id)

    async def list_leads(
        self, *, actor_id: int | None, where: LeadFilter, cursor: str, limit: int
    ) -> Page[Lead]:
        before = decode_cursor(cursor) if cursor else None
        async with self._engine.connect() as conn:
            guard = await self._guard(conn, actor_id)
            if guard is not None:
                where = replace(where, visible=guard.visible())
            rows = await repo.list_leads(conn, where, before_id=before, limit=limit + 1)
        return Page.of(rows, limit, key=lambda lead: lead.id)

    async def update_lead(
        self,
        *,
        actor_id: int | None,
        lead_id: int,
        expected_version: int,
        changes: dict[str, Any],
        fields: dict[str, Any],
    ) -> Lead:
        async with self._uow() as uow:
            lead = await self.visible_lead(uow.conn, actor_id, lead_id, for_update=True)
            guard = await self._guard(uow.conn, actor_id)
            if guard is not None:
                guard.access.require(Permission.DEALS_EDIT, "your role may not change leads")
                if changes.get("responsible_id", lead.responsible_id) != lead.responsible_id:
                    guard.access.require(Permission.DEALS_REASSIGN, _REASSIGN)
            if changes.get("responsible_id", lead.responsible_id) != lead.responsible_id:
                await require_active_user(uow.conn, changes["responsible_id"])
            await self._check_refs(
                uow.conn, actor_id, changes.get("contact_id"), changes.get("company_id")
            )
            funnel = await pipeline_of(uow.conn, lead.pipeline_id)
            now = self._now()
            if lead.update(
                funnel,
                changes=changes,
                field_changes=fields,
                expected_version=expected_version,
                actor_id=actor_id,
                now=now,
            ):
                await repo.save_lead(uow.conn, lead)
                await self._record(uow, lead, now, funnel)
            return lead

    async def move_lead(
        self,
        *,
        actor_id: int | None,
        lead_id: int,
        stage_id: int,
        expected_version: int,
        comment: str,
    ) -> Lead:
        """Move a lead within its funnel; into a spam stage, its contact's e-mails and phones
        go onto the exclusion list in the same transaction."""
        async with self._uow() as uow:
            lead = await self.visible_lead(uow.conn, actor_id, lead_id, for_update=True)
            guard = await self._guard(uow.conn, actor_id)
            if guard is not None:
                guard.access.require(Permission.DEALS_MOVE, "your role may not move leads")
                if not guard.rights.may_move_into(lead.pipeline_id, stage_id):
                    raise PermissionDenied("your role may not move leads into this stage")
            funnel = await pipeline_of(uow.conn, lead.pipeline_id)
            now = self._now()
            stage = lead.move(
                funnel,
                stage_id=stage_id,
                expected_version=expected_version,
                actor_id=actor_id,
                comment=comment.strip(),
                now=now,
            )
            await repo.save_lead(uow.conn, lead)
            await self._record(uow, lead, now, funnel)
            if stage.semantic is Semantic.SPAM and lead.contact_id is not None:
                contact = await self.contacts.visible_contact(uow.conn, None, lead.contact_id)
                await exclude_addresses(
                    uow,
                    contact,
                    reason=f"lead {lead.id} marked as spam",
                    lead_id=lead.id,
                    actor_id=actor_id,
                    now=now,
                )
            return lead

    async def convert_lead(
        self,
        *,
        actor_id: int | None,
        lead_id: int,
        pipeline_id: int | None,
        stage_id: int | None,
        responsible_id: int | None,
    ) -> tuple[Lead, int]:
        """The deal made of a lead (title, contact, company and the fields the pipeline has
        by code), linked both ways; the lead closes in its funnel's first won stage."""
        async with self._uow() as uow:
            lead = await self.visible_lead(uow.conn, actor_id, lead_id, for_update=True)
            funnel = require_funnel(await pipeline_of(uow.conn, lead.pipeline_id), "id")
            pipeline = await self._target(uow.conn, pipeline_id)
            responsible = responsible_id or lead.responsible_id
            guard = await self._guard(uow.conn, actor_id)
            if guard is not None:
                guard.access.require(Permission.DEALS_CREATE, "your role may not create deals")
                guard.access.require(Permission.DEALS_MOVE, "your role may not move leads")
                if responsible != actor_id and responsible != lead.responsible_id:
                    guard.access.require(Permission.DEALS_REASSIGN, _REASSIGN)
                if stage_id is not None and not guard.rights.may_move_into(pipeline.id, stage_id):
                    raise PermissionDenied("your role may not put deals in this stage")
            await require_active_user(uow.conn, responsible)
            plan = conversion_plan(lead, funnel, pipeline)
            contact = company = None
            if lead.contact_id is not None:
                contact = await self.contacts.visible_contact(uow.conn, None, lead.contact_id)
            company_id = lead.company_id or (contact.company_id if contact else None)
            if company_id is not None:
                company = await self.contacts.visible_company(uow.conn, None, company_id)
            now = self._now()
            deal = new_deal(
                pipeline,
                title=lead.title,
                responsible_id=responsible,
                amount="",
                currency="",
                company_name=company.name if company else "",
                contact_name=contact.name if contact else "",
                fields=plan.fields,
                stage_id=stage_id,
                actor_id=actor_id,
                now=now,
            )
            deal.id = await repository.insert_deal(uow.conn, deal)
            await history_repository.enter_stage(
                uow.conn, deal_id=deal.id, stage_id=deal.stage_id, at=now, actor_id=actor_id
            )
            await record_deal(uow, deal, now, (pipeline,))
            await repo.link_deal(uow.conn, deal.id, "lead", lead.id)
            if contact is not None:
                await repo.link_deal(uow.conn, deal.id, "contact", contact.id)
            if company is not None:
                await repo.link_deal(uow.conn, deal.id, "company", company.id)
            await repo.move_lead_files(uow.conn, lead_id=lead.id, deal_id=deal.id)
            lead.convert(
                funnel, deal_id=deal.id, pipeline_id=pipeline.id, actor_id=actor_id, now=now
            )
            await repo.save_lead(uow.conn, lead)
            await self._record(uow, lead, now, funnel)
            return lead, deal.id

    async def _target(self, conn: AsyncConnection, pipeline_id: int | None) -> Pipeline:
        """The pipeline asked for, or the first pipeline of deals."""
        if pipeline_id is not None:
            return await pipeline_of(conn, pipeline_id)
        for pipeline in await repository.load_pipelines(conn):
            if pipeline.kind is Kind.DEAL:
                return pipeline
        raise ValidationFailed(FieldProblem("pipeline_id", "there is no pipeline of deals yet"))

    async def timeline(
        self, *, actor_id: int | None, lead_id: int, cursor: str, limit: int
    ) -> Page[LeadEntry]:
        before = decode_cursor(cursor) if cursor else None
        async with self._engine.connect() as conn:
            await self.visible_lead(conn, actor_id, lead_id)
            rows = await repo.list_entries(conn, lead_id, before_id=before, limit=limit + 1)
        return Page.of(rows, limit, key=lambda e: e.id)

    async def _record(
        self, uow: UnitOfWork, lead: Lead, now: datetime, funnel: Pipeline | None = None
    ) -> None:
        """The lead's events to the outbox and its timeline (with its `funnel`, when it was
        read under its lock or is new: the events' automation facts)."""
        for event in lead.events:
            uow.emit(lead_event(event, lead, funnel))
            kind, text, data = lead_entry(event)
            await repo.add_entry(
                uow.conn,
                lead_id=lead.id,
                kind=kind,
                text=text,
                actor_id=event.actor_id,
                data=data,
                at=now,
            )
        lead.events.clear()
