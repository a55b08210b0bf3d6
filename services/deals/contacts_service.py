"""Use cases of contacts and companies: visible by their responsible as deals are (own /
department / all), duplicates refused unless allowed, two contacts merged with every link."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.access import Permission
from services.common.db import UnitOfWork
from services.common.errors import AlreadyExists, Conflict, FieldProblem, NotFound, ValidationFailed
from services.common.pagination import Page, decode_cursor
from services.deals import contacts_repository as repo
from services.deals import leads_repository, record_fields
from services.deals.access_service import DealAccess
from services.deals.crm_events import contact_event
from services.deals.domain.contacts import (
    Company,
    Contact,
    contact_draft,
    merged,
)
from services.deals.service import DealsService, require_active_user
from services.deals.tables import outbox

_REASSIGN = "your role may not make someone else responsible"


def owners(guard: DealAccess | None) -> frozenset[int] | None:
    """Whose contacts, companies (and records without a pipeline) the user sees."""
    return None if guard is None else guard.owners[guard.rights.visibility]


def sees(guard: DealAccess | None, responsible_id: int) -> bool:
    found = owners(guard)
    return found is None or responsible_id in found


class ContactsService:
    def __init__(self, deals: DealsService) -> None:
        self._deals = deals
        self._engine = deals.engine
        self._now = deals.clock

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, outbox)

    async def require(self, actor_id: int | None, permission: Permission) -> None:
        await self._deals.access.require(actor_id, permission)

    async def guard(self, conn: AsyncConnection, actor_id: int | None) -> DealAccess | None:
        return None if actor_id is None else await self._deals.access.cache.get(conn, actor_id)

    async def _may(
        self, conn: AsyncConnection, actor_id: int | None, responsible: int, permission: Permission
    ) -> None:
        guard = await self.guard(conn, actor_id)
        if guard is not None:
            guard.access.require(permission, f"your role may not do this ({permission})")
            if responsible != actor_id:
                guard.access.require(Permission.DEALS_REASSIGN, _REASSIGN)
        await require_active_user(conn, responsible)

    async def visible_contact(
        self,
        conn: AsyncConnection,
        actor_id: int | None,
        contact_id: int,
        *,
        for_update: bool = False,
    ) -> Contact:
        found = await repo.get_contact(conn, contact_id, for_update=for_update)
        if found is None or not sees(await self.guard(conn, actor_id), found.responsible_id):
            raise NotFound(f"contact {contact_id} not found")
        return found

    async def visible_company(
        self, conn: AsyncConnection, actor_id: int | None, company_id: int, field: str = "id"
    ) -> Company:
        found = await repo.get_company(conn, company_id)
        if found is None or not sees(await self.guard(conn, actor_id), found.responsible_id):
            if field != "id":
                raise ValidationFailed(FieldProblem(field, "is not a company you see"))
            raise NotFound(f"company {company_id} not found")
        return found

    # ---- contacts ----
    async def create_contact(
        self,
        *,
        actor_id: int | None,
        name: str,
        emails: list[str],
        phones: list[str],
        company_id: int | None,
        position: str,
        responsible_id: int | None,
        fields: dict[str, Any],
        allow_duplicate: bool,
    ) -> Contact:
        """A contact; an e-mail or phone already on file is refused (AlreadyExists naming the
        contact that has it) unless duplicates are allowed."""
        draft = contact_draft(
            name=name,
            emails=emails,
            phones=phones,
            company_id=company_id,
            position=position,
            fields=fields,
        )
        responsible = responsible_of(responsible_id, actor_id)
        async with self._uow() as uow:
            await self._may(uow.conn, actor_id, responsible, Permission.DEALS_CREATE)
            draft = replace(
                draft, fields=await record_fields.checked(uow.conn, "contact", {}, fields)
            )
            if company_id is not None:
                await self.visible_company(uow.conn, actor_id, company_id, "company_id")
            if not allow_duplicate:
                same = await repo.contacts_with(uow.conn, emails=draft.emails, phones=draft.phones)
                if same:
                    raise duplicate(same[0], draft.emails, draft.phones)
            return await self.insert_contact(uow, draft.__dict__, responsible, actor_id)

    async def insert_contact(
        self, uow: UnitOfWork, values: dict[str, Any], responsible: int, actor_id: int | None
    ) -> Contact:
        now = self._now()
        contact = Contact(
            id=0,
            responsible_id=responsible,
            version=1,
            created_at=now,
            updated_at=now,
            **values,
        )
        contact.id = await repo.insert_contact(uow.conn, contact)
        uow.emit(contact_event("created", contact, actor_id))
        return contact

    async def get_contact(self, *, actor_id: int | None, contact_id: int) -> Contact:
        async with self._engine.connect() as conn:
            return await self.visible_contact(conn, actor_id, contact_id)

    async def list_contacts(
        self, *, actor_id: int | None, q: str, company_id: int | None, cursor: str, limit: int
    ) -> Page[Contact]:
        """Contacts the actor sees by name, e-mail or phone (normalised), newest first."""
        before = decode_cursor(cursor) if cursor else None
        async with self._engine.connect() as conn:
            where = repo.ContactFilter(
                q=q, company_id=company_id, owners=owners(await self.guard(conn, actor_id))
            )
            rows = await repo.list_contacts(conn, where, before_id=before, limit=limit + 1)
        return Page.of(rows, limit, key=lambda c: c.id)

    async def update_contact(
        self,
        *,
        actor_id: int | None,
        contact_id: int,
        expected_version: int,
        changes: dict[str, Any],
        fields: dict[str, Any],
    ) -> Contact:
        async with self._uow() as uow:
            contact = await self.visible_contact(uow.conn, actor_id, contact_id, for_update=True)
            if expected_version and expected_version != contact.version:
                raise stale("contact", contact_id, contact.version, expected_version)
            responsible = changes.get("responsible_id", contact.responsible_id)
            await self._may(uow.conn, actor_id, responsible, Permission.DEALS_EDIT)
            if changes.get("company_id") is not None:
                await self.visible_company(uow.conn, actor_id, changes["company_id"], "company_id")
            draft = contact_draft(
                name=changes.get("name", contact.name),
                emails=changes.get("emails", list(contact.emails)),
                phones=changes.get("phones", list(contact.phones)),
                company_id=changes.get("company_id", contact.company_id),
                position=changes.get("position", contact.position),
                fields={},
            )
            draft = replace(
                draft,
                fields=await record_fields.checked(uow.conn, "contact", contact.fields, fields),
            )
            before = contact.attributes()
            for name, value in draft.__dict__.items():
                setattr(contact, name, value)
            contact.responsible_id = responsible
            after = contact.attributes()
            changed = sorted(k for k in after if after[k] != before[k])
            if changed:
                contact.version += 1
                contact.updated_at = self._now()
                await repo.save_contact(uow.conn, contact)
                uow.emit(
                    contact_event(
                        "updated",
                        contact,
                        actor_id,
                        before={k: before[k] for k in changed},
                        after={k: after[k] for k in changed},
                    )
                )
            return contact

    async def merge_contacts(self, *, actor_id: int | None, keep_id: int, merge_id: int) -> Contact:
        """`merge_id` into `keep_id`: addresses, company, fields, leads and deal links move
        over; the merged contact stays (marked) so that old references still resolve."""
        if keep_id == merge_id:
            raise ValidationFailed(FieldProblem("merge_id", "must be another contact"))
        async with self._uow() as uow:
            first, second = sorted((keep_id, merge_id))  # lock in id order: no deadlock
            await self.visible_contact(uow.conn, actor_id, first, for_update=True)
            await self.visible_contact(uow.conn, actor_id, second, for_update=True)
            keep = await self.visible_contact(uow.conn, actor_id, keep_id)
            gone = await self.visible_contact(uow.conn, actor_id, merge_id)
            guard = await self.guard(uow.conn, actor_id)
            if guard is not None:
                guard.access.require(Permission.DEALS_EDIT, "your role may not change contacts")
            for contact in (keep, gone):
                if contact.merged_into_id is not None:
                    raise ValidationFailed(FieldProblem("merge_id", "was merged already"))
            for name, value in merged(keep, gone).items():
                setattr(keep, name, value)
            now = self._now()
            keep.version += 1
            keep.updated_at = gone.updated_at = now
            gone.merged_into_id = keep.id
            gone.version += 1
            await repo.save_contact(uow.conn, gone)  # first: it gives up its addresses
            await repo.save_contact(uow.conn, keep)
            await leads_repository.move_contact_refs(uow.conn, from_id=gone.id, to_id=keep.id)
            uow.emit(contact_event("merged", keep, actor_id, merged_id=str(gone.id)))
            return keep


def responsible_of(responsible_id: int | None, actor_id: int | None) -> int:
    responsible = responsible_id or actor_id
    if responsible is None:
        raise ValidationFailed(FieldProblem("responsible_id", "is required"))
    return responsible


def duplicate(existing: Contact, emails: tuple[str, ...], phones: tuple[str, ...]) -> AlreadyExists:
    """The 409 of a duplicate: the field that matched, and the existing contact's id."""
    problems = [
        FieldProblem(f"emails[{i}]", f"on contact {existing.id}")
        for i, e in enumerate(emails)
        if e in existing.emails
    ] + [
        FieldProblem(f"phones[{i}]", f"on contact {existing.id}")
        for i, p in enumerate(phones)
        if p in existing.phones
    ]
    message = f"contact {existing.id} has this e-mail or phone"
    return AlreadyExists(message, [FieldProblem("existing_id", str(existing.id)), *problems])


def stale(what: str, record_id: int, version: int, expected: int) -> Exception:
    return Conflict(f"{what} {record_id} is at version {version}, not {expected}")
