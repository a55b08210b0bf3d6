"""Use cases of the exclusion list: add, list, remove, and exclude a contact's addresses
(what moving a lead into a spam stage does, and what a rule action may call)."""

from __future__ import annotations

from datetime import datetime

from services.common.access import Permission
from services.common.db import PendingEvent, UnitOfWork
from services.common.errors import FieldProblem, NotFound, ValidationFailed
from services.common.pagination import Page, decode_cursor
from services.deals import intake_repository as repo
from services.deals.contacts_service import ContactsService
from services.deals.domain.contacts import Contact
from services.deals.domain.exclusions import KINDS, Exclusion, exclusion_value
from services.deals.tables import outbox


async def exclude(
    uow: UnitOfWork,
    *,
    kind: str,
    value: str,
    reason: str,
    lead_id: int | None,
    actor_id: int | None,
    now: datetime,
) -> Exclusion:
    """Put one normalised address on the list (a repeat keeps the first entry)."""
    found, new = await repo.add_exclusion(
        uow.conn, kind=kind, value=value, reason=reason, lead_id=lead_id, actor_id=actor_id, at=now
    )
    if new:
        data = {"exclusion": {"id": str(found.id), "kind": kind, "value": value}, "reason": reason}
        if lead_id is not None:
            data["lead_id"] = str(lead_id)
        actor = "" if actor_id is None else str(actor_id)
        uow.emit(PendingEvent("deals.exclusion.added", f"exclusion/{found.id}", data, actor=actor))
    return found


async def exclude_addresses(
    uow: UnitOfWork,
    contact: Contact,
    *,
    reason: str,
    lead_id: int | None,
    actor_id: int | None,
    now: datetime,
) -> list[Exclusion]:
    pairs = [("email", e) for e in contact.emails] + [("phone", p) for p in contact.phones]
    return [
        await exclude(
            uow, kind=k, value=v, reason=reason, lead_id=lead_id, actor_id=actor_id, now=now
        )
        for k, v in pairs
    ]


class ExclusionsService:
    def __init__(self, contacts: ContactsService) -> None:
        self._contacts = contacts
        self._engine = contacts._engine
        self._now = contacts._now

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, outbox)

    async def _require_edit(self, uow: UnitOfWork, actor_id: int | None) -> None:
        guard = await self._contacts.guard(uow.conn, actor_id)
        if guard is not None:
            guard.access.require(Permission.DEALS_EDIT, "your role may not change exclusions")

    async def create(
        self, *, actor_id: int | None, kind: str, value: str, reason: str
    ) -> Exclusion:
        clean = exclusion_value(kind, value)
        async with self._uow() as uow:
            await self._require_edit(uow, actor_id)
            return await exclude(
                uow,
                kind=kind,
                value=clean,
                reason=reason.strip()[:500],
                lead_id=None,
                actor_id=actor_id,
                now=self._now(),
            )

    async def list_exclusions(
        self, *, actor_id: int | None, kind: str, q: str, cursor: str, limit: int
    ) -> Page[Exclusion]:
        if kind and kind not in KINDS:
            raise ValidationFailed(FieldProblem("kind", "must be one of " + ", ".join(KINDS)))
        before = decode_cursor(cursor) if cursor else None
        async with self._engine.connect() as conn:
            rows = await repo.list_exclusions(
                conn, kind=kind, q=q, before_id=before, limit=limit + 1
            )
        return Page.of(rows, limit, key=lambda e: e.id)

    async def delete(self, *, actor_id: int | None, exclusion_id: int) -> Exclusion:
        async with self._uow() as uow:
            await self._require_edit(uow, actor_id)
            found = await repo.delete_exclusion(uow.conn, exclusion_id)
            if found is None:
                raise NotFound(f"exclusion {exclusion_id} not found")
            data = {"exclusion": {"id": str(found.id), "kind": found.kind, "value": found.value}}
            actor = "" if actor_id is None else str(actor_id)
            uow.emit(
                PendingEvent("deals.exclusion.removed", f"exclusion/{found.id}", data, actor=actor)
            )
            return found

    async def exclude_contact(
        self, *, actor_id: int | None, contact_id: int, lead_id: int | None, reason: str
    ) -> list[Exclusion]:
        """Every e-mail and phone of a contact the actor sees onto the list."""
        async with self._uow() as uow:
            await self._require_edit(uow, actor_id)
            contact = await self._contacts.visible_contact(uow.conn, actor_id, contact_id)
            return await exclude_addresses(
                uow,
                contact,
                reason=reason.strip()[:500] or "excluded",
                lead_id=lead_id,
                actor_id=actor_id,
                now=self._now(),
            )
