"""Use cases of activities: plan or log a call, an e-mail or a meeting on a deal, a lead or
a contact the actor sees, mark a planned one done, list them, and the next planned one of
each deal (shown in deal lists).

Every activity writes an entry on the record's timeline (a deal's or a lead's): a done one
the entry of its kind, which on a deal emits `deals.deal.activity_logged` (the automation
rules' `activity_logged` trigger); a planned one `activity_planned`. A done one on a deal
or a contact with an active reminder plan emits `deals.reminder_plan.changed`: that
channel's clock restarts (services/deals/domain/reminder_plans.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.access import Permission
from services.common.db import UnitOfWork
from services.common.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from services.deals import activities_repository as repo
from services.deals import history_repository, leads_repository
from services.deals.domain.activities import (
    DONE,
    PLANNED,
    Activity,
    check_new,
    timeline_kind,
    timeline_text,
)
from services.deals.events import activity_logged
from services.deals.plan_events import plan_changed
from services.deals.service import require_active_user
from services.deals.tables import outbox

if TYPE_CHECKING:
    from services.deals.leads_service import LeadsService
    from services.deals.service import DealsService

RECORDS = ("deal", "lead", "contact")


@dataclass(frozen=True)
class NewActivity:
    kind: str
    status: str
    assignee_id: int | None
    due_at: datetime | None
    done_at: datetime | None
    subject: str = ""
    outcome: str = ""
    notes: str = ""
    plan_id: int | None = None


class ActivitiesService:
    def __init__(self, deals: DealsService) -> None:
        self._deals = deals
        self._engine = deals.engine
        self._now = deals.clock
        self._leads_service: LeadsService | None = None

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, outbox)

    def _leads(self) -> LeadsService:
        if self._leads_service is None:  # built on the deals service this one belongs to
            from services.deals.contacts_service import ContactsService
            from services.deals.leads_service import LeadsService

            self._leads_service = LeadsService(ContactsService(self._deals))
        return self._leads_service

    async def visible_record(
        self, conn: AsyncConnection, actor_id: int | None, record: str, record_id: int
    ) -> Any:
        """The deal, lead or contact, or NotFound when the actor does not see it."""
        if record == "deal":
            return await self._deals._visible_deal(conn, actor_id, record_id)
        if record == "lead":
            return await self._leads().visible_lead(conn, actor_id, record_id)
        return await self._leads().contacts.visible_contact(conn, actor_id, record_id)

    async def require_edit(self, actor_id: int | None) -> None:
        """PermissionDenied unless the actor's role may change records (before reading
        the request: a role that may change nothing hears so first)."""
        await self._deals.access.require(actor_id, Permission.DEALS_EDIT)

    async def may_edit(self, conn: AsyncConnection, actor_id: int | None) -> None:
        if actor_id is not None:
            guard = await self._deals.access.cache.get(conn, actor_id)
            guard.access.require(Permission.DEALS_EDIT, "your role may not change records")

    async def create(
        self,
        *,
        actor_id: int | None,
        record: str,
        record_id: int,
        new: NewActivity,
        idempotency_key: str = "",
    ) -> Activity:
        """Plan or log an activity on a record the actor sees (the assignee by default the
        actor, for an internal call the record's responsible); a retry with the same key
        returns the first one."""
        async with self._uow() as uow:
            # Who may not see the record hears 404 whatever the body says.
            target = await self.visible_record(uow.conn, actor_id, record, record_id)
            await self.may_edit(uow.conn, actor_id)
            check_new(
                kind=new.kind,
                status=new.status,
                due_at=new.due_at,
                subject=new.subject,
                outcome=new.outcome,
                notes=new.notes,
            )
            assignee = new.assignee_id or actor_id or target.responsible_id
            await require_active_user(uow.conn, assignee)
            now = self._now()
            done = new.status == DONE
            made = await repo.insert_activity(
                uow.conn,
                {
                    f"{record}_id": record_id,
                    "kind": new.kind,
                    "status": new.status,
                    "assignee_id": assignee,
                    "due_at": new.due_at,
                    "done_at": (new.done_at or now) if done else None,
                    "subject": new.subject,
                    "outcome": new.outcome,
                    "notes": new.notes,
                    "plan_id": new.plan_id,
                    "created_by": actor_id,
                    "created_at": now,
                    "idempotency_key": idempotency_key or None,
                },
            )
            if made is None:
                found = await repo.activity_by_key(uow.conn, idempotency_key)
                if found is None or found.record != (record, record_id):
                    raise Conflict("this idempotency key was used for another record")
                return found
            await self._record(uow, made, target, actor_id, now)
            return made

    async def get(self, *, actor_id: int | None, activity_id: int) -> Activity:
        async with self._engine.connect() as conn:
            found = await repo.get_activity(conn, activity_id)
            if found is None:
                raise NotFound(f"activity {activity_id} not found")
            await self.visible_record(conn, actor_id, *found.record)
            return found

    async def complete(
        self, *, actor_id: int | None, activity_id: int, outcome: str, notes: str
    ) -> Activity:
        """Mark a planned activity done (a second call answers the done one)."""
        async with self._uow() as uow:
            found = await repo.get_activity(uow.conn, activity_id, for_update=True)
            if found is None:
                raise NotFound(f"activity {activity_id} not found")
            target = await self.visible_record(uow.conn, actor_id, *found.record)
            if found.status == DONE:
                return found
            await self.may_edit(uow.conn, actor_id)
            check_new(
                kind=found.kind,
                status=DONE,
                due_at=None,
                subject="",
                outcome=outcome,
                notes=notes,
            )
            now = self._now()
            done = await repo.mark_done(
                uow.conn, activity_id, at=now, outcome=outcome, notes=notes or found.notes
            )
            await self._record(uow, done, target, actor_id, now)
            return done

    async def _record(
        self, uow: UnitOfWork, activity: Activity, target: Any, actor_id: int | None, now: datetime
    ) -> None:
        """The timeline entry of the activity and, for a done one, its events."""
        record, record_id = activity.record
        kind, text = timeline_kind(activity), timeline_text(activity)
        data: dict[str, Any] = {"activity_id": str(activity.id), "status": activity.status}
        if activity.due_at is not None:
            data["due_at"] = activity.due_at.isoformat()
        if record == "deal":
            entry = await history_repository.add_entry(
                uow.conn,
                deal_id=record_id,
                kind=kind,
                text=text,
                actor_id=actor_id,
                data=data,
                at=now,
            )
            if activity.status == DONE and entry is not None:
                uow.emit(
                    activity_logged(
                        target, kind=activity.kind, text=text, entry_id=entry.id, actor_id=actor_id
                    )
                )
        elif record == "lead":
            await leads_repository.add_entry(
                uow.conn,
                lead_id=record_id,
                kind=kind,
                text=text,
                actor_id=actor_id,
                data=data,
                at=now,
            )
        if activity.status == DONE:
            for plan_id in await repo.active_plan_ids(uow.conn, record=record, record_id=record_id):
                uow.emit(plan_changed(plan_id, reason=f"{activity.kind} done", actor_id=actor_id))

    async def list_activities(
        self,
        *,
        actor_id: int | None,
        where: Mapping[str, int],
        status: str,
        limit: int,
    ) -> list[Activity]:
        """A record's activities (`{"deal_id": 42}`), or a user's (`{"assignee_id": 7}`:
        only the user's own, unless an internal call)."""
        if status and status not in (PLANNED, DONE):
            raise ValidationFailed(FieldProblem("status", "must be planned or done"))
        async with self._engine.connect() as conn:
            for name, value in where.items():
                if name == "assignee_id":
                    if actor_id is not None and value != actor_id:
                        raise ValidationFailed(FieldProblem("assignee", "only `me`"))
                else:
                    await self.visible_record(conn, actor_id, name.removesuffix("_id"), value)
            return await repo.list_activities(conn, where, status=status, limit=limit)

    async def next_of_deals(self, deal_ids: list[int]) -> dict[int, Activity]:
        """Each deal's earliest planned activity (for lists the caller already may see)."""
        async with self._engine.connect() as conn:
            return await repo.next_of_deals(conn, deal_ids)
