"""Writing one checked import row: a new record, or the one its external id names updated
(its events and timeline as any change of it has)."""

from __future__ import annotations

from typing import Any

from services.common.db import UnitOfWork
from services.deals import contacts_repository as contacts_repo
from services.deals import history_repository, repository
from services.deals import leads_repository as leads_repo
from services.deals.crm_events import company_event, contact_event
from services.deals.domain.contacts import Company
from services.deals.domain.deals import new_deal
from services.deals.domain.imports import Shaped
from services.deals.domain.pipelines import Pipeline
from services.deals.leads_service import LeadsService
from services.deals.service import record_deal


class RowWriter:
    def __init__(self, leads: LeadsService) -> None:
        self._leads = leads
        self._contacts = leads.contacts
        self._now = leads._now

    async def apply(
        self,
        uow: UnitOfWork,
        kind: str,
        row: Shaped,
        record_id: int | None,
        pipeline: Pipeline | None,
    ) -> int:
        conn, now, attrs = uow.conn, self._now(), row.attrs
        responsible = attrs.pop("responsible_id")
        match kind:
            case "companies":
                existing = await contacts_repo.get_company(conn, record_id) if record_id else None
                if existing is None:
                    company = Company(
                        0,
                        responsible_id=responsible,
                        version=1,
                        created_at=now,
                        updated_at=now,
                        fields=row.fields,
                        **attrs,
                    )
                    company.id = await contacts_repo.insert_company(conn, company)
                    uow.emit(company_event("created", company, responsible))
                    return company.id
                existing.name = attrs["name"]
                existing.registration_ids = {
                    **existing.registration_ids,
                    **attrs["registration_ids"],
                }
                existing.addresses = tuple(dict.fromkeys(existing.addresses + attrs["addresses"]))
                existing.fields = {**existing.fields, **row.fields}
                existing.version, existing.updated_at = existing.version + 1, now
                await contacts_repo.save_company(conn, existing)
                uow.emit(company_event("updated", existing, responsible))
                return existing.id
            case "contacts":
                company_name = attrs.pop("company", "")
                if company_name:
                    attrs["company_id"] = await self._company_id(uow, company_name, responsible)
                existing_contact = (
                    await contacts_repo.get_contact(conn, record_id) if record_id else None
                )
                if existing_contact is None:
                    values = {**attrs, "fields": row.fields}
                    return (
                        await self._contacts.insert_contact(uow, values, responsible, responsible)
                    ).id
                for name, value in attrs.items():
                    setattr(existing_contact, name, value)
                existing_contact.fields = {**existing_contact.fields, **row.fields}
                existing_contact.version, existing_contact.updated_at = (
                    existing_contact.version + 1,
                    now,
                )
                await contacts_repo.save_contact(conn, existing_contact)
                uow.emit(contact_event("updated", existing_contact, responsible))
                return existing_contact.id
            case "leads":
                assert pipeline is not None
                return await self._lead(uow, row, record_id, pipeline, responsible)
        assert pipeline is not None
        return await self._deal(uow, row, record_id, pipeline, responsible)

    async def _company_id(self, uow: UnitOfWork, name: str, responsible: int) -> int:
        found = await contacts_repo.company_named(uow.conn, name)
        if found is not None:
            return found.id
        now = self._now()
        company = Company(0, name, {}, (), responsible, {}, 1, now, now)
        company.id = await contacts_repo.insert_company(uow.conn, company)
        uow.emit(company_event("created", company, responsible))
        return company.id

    async def _lead(
        self,
        uow: UnitOfWork,
        row: Shaped,
        record_id: int | None,
        funnel: Pipeline,
        responsible: int,
    ) -> int:
        attrs = row.attrs
        existing = (
            await leads_repo.get_lead(uow.conn, record_id, for_update=True) if record_id else None
        )
        if existing is not None:
            changes: dict[str, Any] = {k: attrs[k] for k in ("title", "source") if k in attrs}
            if existing.update(
                funnel,
                changes=changes,
                field_changes=row.fields,
                expected_version=0,
                actor_id=responsible,
                now=self._now(),
            ):
                await leads_repo.save_lead(uow.conn, existing)
                await self._leads._record(uow, existing, self._now())
            return existing.id
        emails: tuple[str, ...] = (attrs["email"],) if attrs.get("email") else ()
        phones: tuple[str, ...] = (attrs["phone"],) if attrs.get("phone") else ()
        contact_id = None
        if emails or phones:
            known = await contacts_repo.contacts_with(uow.conn, emails=emails, phones=phones)
            if known:
                contact_id = known[0].id
            else:
                name = attrs.get("contact_name") or (emails + phones)[0]
                values: dict[str, Any] = {
                    "name": name,
                    "emails": emails,
                    "phones": phones,
                    "company_id": None,
                    "position": "",
                    "fields": {},
                }
                contact_id = (
                    await self._contacts.insert_contact(uow, values, responsible, responsible)
                ).id
        company_id = (
            await self._company_id(uow, attrs["company"], responsible)
            if attrs.get("company")
            else None
        )
        lead = await self._leads.insert_lead(
            uow,
            funnel,
            title=attrs["title"],
            source=attrs.get("source", "import"),
            contact_id=contact_id,
            company_id=company_id,
            responsible_id=responsible,
            fields=row.fields,
            stage_id=attrs.get("stage_id"),
            actor_id=responsible,
        )
        return lead.id

    async def _deal(
        self,
        uow: UnitOfWork,
        row: Shaped,
        record_id: int | None,
        pipeline: Pipeline,
        responsible: int,
    ) -> int:
        attrs, now = row.attrs, self._now()
        values: dict[str, Any] = {
            k: attrs.get(k, "")
            for k in ("title", "amount", "currency", "company_name", "contact_name")
        }
        existing = (
            await repository.get_deal(uow.conn, record_id, for_update=True) if record_id else None
        )
        if existing is not None:
            changes = {k: v for k, v in values.items() if v}
            if existing.update(
                pipeline,
                changes=changes,
                field_changes=row.fields,
                expected_version=0,
                actor_id=responsible,
                now=now,
            ):
                await repository.save_deal(uow.conn, existing)
                await record_deal(uow, existing, now)
            return existing.id
        deal = new_deal(
            pipeline,
            responsible_id=responsible,
            fields=row.fields,
            stage_id=attrs.get("stage_id"),
            actor_id=responsible,
            now=now,
            **values,
        )
        deal.id = await repository.insert_deal(uow.conn, deal)
        await history_repository.enter_stage(
            uow.conn, deal_id=deal.id, stage_id=deal.stage_id, at=now, actor_id=responsible
        )
        await record_deal(uow, deal, now)
        return deal.id
