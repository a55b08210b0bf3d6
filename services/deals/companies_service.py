"""Use cases of companies: seen by their responsible's visibility, as contacts are."""

from __future__ import annotations

from typing import Any

from services.common.access import Permission
from services.common.db import UnitOfWork
from services.common.pagination import Page, decode_cursor
from services.deals import contacts_repository as repo
from services.deals import record_fields
from services.deals.contacts_service import ContactsService, owners, responsible_of, stale
from services.deals.crm_events import company_event
from services.deals.domain.contacts import Company, company_values
from services.deals.tables import outbox


class CompaniesService:
    def __init__(self, contacts: ContactsService) -> None:
        self._contacts = contacts
        self._engine = contacts._engine
        self._now = contacts._now
        self._may = contacts._may
        self.guard = contacts.guard
        self.visible_company = contacts.visible_company

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, outbox)

    async def create_company(
        self,
        *,
        actor_id: int | None,
        name: str,
        registration_ids: dict[str, str],
        addresses: list[str],
        responsible_id: int | None,
        fields: dict[str, Any],
    ) -> Company:
        values = company_values(
            name=name, registration_ids=registration_ids, addresses=addresses, fields=fields
        )
        responsible = responsible_of(responsible_id, actor_id)
        now = self._now()
        async with self._uow() as uow:
            await self._may(uow.conn, actor_id, responsible, Permission.DEALS_CREATE)
            values["fields"] = await record_fields.checked(uow.conn, "company", {}, fields)
            company = Company(
                id=0,
                responsible_id=responsible,
                version=1,
                created_at=now,
                updated_at=now,
                **values,
            )
            company.id = await repo.insert_company(uow.conn, company)
            uow.emit(company_event("created", company, actor_id))
            return company

    async def update_company(
        self,
        *,
        actor_id: int | None,
        company_id: int,
        expected_version: int,
        changes: dict[str, Any],
        fields: dict[str, Any],
    ) -> Company:
        """Change the named attributes and merge custom fields (None clears one)."""
        async with self._uow() as uow:
            company = await self.visible_company(uow.conn, actor_id, company_id)
            if expected_version and expected_version != company.version:
                raise stale("company", company_id, company.version, expected_version)
            responsible = changes.get("responsible_id", company.responsible_id)
            await self._may(uow.conn, actor_id, responsible, Permission.DEALS_EDIT)
            values = company_values(
                name=changes.get("name", company.name),
                registration_ids=changes.get("registration_ids", company.registration_ids),
                addresses=changes.get("addresses", list(company.addresses)),
                fields={},
            )
            values["fields"] = await record_fields.checked(
                uow.conn, "company", company.fields, fields
            )

            def state() -> tuple[Any, ...]:
                return (
                    company.name,
                    company.registration_ids,
                    company.addresses,
                    company.fields,
                    company.responsible_id,
                )

            before = state()
            for name, value in values.items():
                setattr(company, name, value)
            company.responsible_id = responsible
            if state() != before:
                company.version += 1
                company.updated_at = self._now()
                await repo.save_company(uow.conn, company)
                uow.emit(company_event("updated", company, actor_id))
            return company

    async def get_company(self, *, actor_id: int | None, company_id: int) -> Company:
        async with self._engine.connect() as conn:
            return await self.visible_company(conn, actor_id, company_id)

    async def list_companies(
        self, *, actor_id: int | None, q: str, cursor: str, limit: int
    ) -> Page[Company]:
        before = decode_cursor(cursor) if cursor else None
        async with self._engine.connect() as conn:
            seen = owners(await self.guard(conn, actor_id))
            rows = await repo.list_companies(
                conn, q=q, owners=seen, before_id=before, limit=limit + 1
            )
        return Page.of(rows, limit, key=lambda c: c.id)
