"""Use cases of reminder plans (SN-3): make, change, stop and read a plan on a deal or a
client (a contact), and create a channel's reminder when the plan's workflow finds it due.

A plan's view (the Struct of ReminderPlan):
    {"id", "deal_id", "contact_id", "responsible_id", "needs": [..], "frequencies":
     {"calls": {"count": 2, "per": "month"}}, "status": "active" | "stopped", "version",
     "created_at", "updated_at", "next_due": {"calls": "<ISO time>"}, "workflow_id"}
Rules: services/deals/domain/reminder_plans.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import UnitOfWork
from services.common.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from services.deals import activities_repository as repo
from services.deals.activities_service import ActivitiesService, NewActivity
from services.deals.domain.activities import PLANNED, Activity
from services.deals.domain.reminder_plans import (
    ACTIVE,
    CHANNELS,
    STOPPED,
    next_due,
    parse_frequencies,
    parse_needs,
    reminder_subject,
)
from services.deals.plan_events import plan_changed
from services.deals.service import require_active_user
from services.deals.tables import outbox


def workflow_id(plan_id: int | str) -> str:
    """The plan's one long-lived workflow (continued as new, same id)."""
    return f"reminder-plan/{plan_id}"


def _ref(raw: Mapping[str, Any], name: str) -> int | None:
    value = raw.get(name)
    if value in (None, ""):
        return None
    try:
        return int(str(value))
    except ValueError:
        raise ValidationFailed(FieldProblem(name, "must be a record id")) from None


class ReminderPlansService:
    def __init__(self, activities: ActivitiesService) -> None:
        self._activities = activities
        self._engine = activities._engine
        self._now = activities._now

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, outbox)

    async def create(
        self, *, actor_id: int | None, raw: Mapping[str, Any], idempotency_key: str = ""
    ) -> dict[str, Any]:
        """A plan on a deal or a contact the actor sees and may change."""
        await self._activities.require_edit(actor_id)
        deal_id, contact_id = _ref(raw, "deal_id"), _ref(raw, "contact_id")
        if (deal_id is None) == (contact_id is None):
            raise ValidationFailed(FieldProblem("deal_id", "name a deal_id or a contact_id"))
        frequencies = parse_frequencies(raw.get("frequencies"))
        needs = parse_needs(raw.get("needs"))
        record, record_id = ("deal", deal_id) if deal_id is not None else ("contact", contact_id)
        assert record_id is not None
        async with self._uow() as uow:
            target = await self._activities.visible_record(uow.conn, actor_id, record, record_id)
            await self._activities.may_edit(uow.conn, actor_id)
            responsible = _ref(raw, "responsible_id") or target.responsible_id
            await require_active_user(uow.conn, responsible)
            now = self._now()
            row = await repo.insert_plan(
                uow.conn,
                {
                    "deal_id": deal_id,
                    "contact_id": contact_id,
                    "responsible_id": responsible,
                    "needs": needs,
                    "frequencies": {c: f.view() for c, f in frequencies.items()},
                    "status": ACTIVE,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                    "idempotency_key": idempotency_key or None,
                },
            )
            if row is None:
                row = await repo.plan_by_key(uow.conn, idempotency_key)
                if row is None or (row.deal_id, row.contact_id) != (deal_id, contact_id):
                    raise Conflict("this idempotency key was used for another plan")
            else:
                uow.emit(plan_changed(row.id, reason="created", actor_id=actor_id))
            return await self._view(uow.conn, row)

    async def update(
        self, *, actor_id: int | None, plan_id: int, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Change the needs, the frequencies (rescheduled at once), the responsible, or
        stop (`"status": "stopped"`) or restart the plan."""
        await self._activities.require_edit(actor_id)
        async with self._uow() as uow:
            row = await self._visible(uow.conn, actor_id, plan_id, for_update=True)
            await self._activities.may_edit(uow.conn, actor_id)
            values: dict[str, Any] = {}
            if "frequencies" in changes:
                parsed = parse_frequencies(changes["frequencies"])
                values["frequencies"] = {c: f.view() for c, f in parsed.items()}
            if "needs" in changes:
                values["needs"] = parse_needs(changes["needs"])
            if "status" in changes:
                if changes["status"] not in (ACTIVE, STOPPED):
                    raise ValidationFailed(FieldProblem("status", "must be active or stopped"))
                values["status"] = changes["status"]
            if changes.get("responsible_id") not in (None, ""):
                values["responsible_id"] = _ref(changes, "responsible_id")
                await require_active_user(uow.conn, values["responsible_id"])
            if not values:
                return await self._view(uow.conn, row)
            row = await repo.save_plan(uow.conn, plan_id, {**values, "updated_at": self._now()})
            uow.emit(plan_changed(plan_id, reason="updated", actor_id=actor_id))
            return await self._view(uow.conn, row)

    async def get(self, *, actor_id: int | None, plan_id: int) -> dict[str, Any]:
        async with self._engine.connect() as conn:
            return await self._view(conn, await self._visible(conn, actor_id, plan_id))

    async def list_plans(
        self, *, actor_id: int | None, where: Mapping[str, int]
    ) -> list[dict[str, Any]]:
        async with self._engine.connect() as conn:
            for name, value in where.items():
                await self._activities.visible_record(conn, actor_id, name[:-3], value)
            return [await self._view(conn, row) for row in await repo.list_plans(conn, where)]

    async def create_reminder(
        self, *, plan_id: int, channel: str, due_at: datetime, idempotency_key: str
    ) -> Activity | None:
        """The channel's reminder, due at `due_at`, for the plan's responsible; None when the
        plan is stopped or the channel is no longer due then (a hand-logged activity or a
        new frequency moved it later)."""
        if channel not in CHANNELS:
            raise ValidationFailed(FieldProblem("channel", "must be letters, calls or meetings"))
        async with self._engine.connect() as conn:
            row = await self._visible(conn, None, plan_id)
            view = await self._view(conn, row)
        due = view["next_due"].get(channel)
        if row.status != ACTIVE or due is None or datetime.fromisoformat(due) > due_at:
            return None
        record, record_id = ("deal", row.deal_id) if row.deal_id else ("contact", row.contact_id)
        return await self._activities.create(
            actor_id=None,
            record=record,
            record_id=record_id,
            new=NewActivity(
                kind=CHANNELS[channel],
                status=PLANNED,
                assignee_id=row.responsible_id,
                due_at=due_at,
                done_at=None,
                subject=reminder_subject(channel, list(row.needs)),
                plan_id=plan_id,
            ),
            idempotency_key=idempotency_key,
        )

    async def _visible(
        self, conn: AsyncConnection, actor_id: int | None, plan_id: int, *, for_update: bool = False
    ) -> sa.Row[Any]:
        row = await repo.get_plan(conn, plan_id, for_update=for_update)
        if row is None:
            raise NotFound(f"reminder plan {plan_id} not found")
        record, record_id = ("deal", row.deal_id) if row.deal_id else ("contact", row.contact_id)
        try:
            await self._activities.visible_record(conn, actor_id, record, record_id)
        except NotFound:
            raise NotFound(f"reminder plan {plan_id} not found") from None
        return row

    async def _view(self, conn: AsyncConnection, row: sa.Row[Any]) -> dict[str, Any]:
        anchors = await repo.channel_anchors(conn, row)
        frequencies = parse_frequencies(row.frequencies)
        due: dict[str, str] = {}
        if row.status == ACTIVE:
            for channel, frequency in frequencies.items():
                last_done, last_reminder = anchors.get(CHANNELS[channel], (None, None))
                at = next_due(
                    frequency,
                    last_done=last_done,
                    last_reminder=last_reminder,
                    started=row.created_at,
                )
                due[channel] = at.isoformat()
        return {
            "id": str(row.id),
            "deal_id": str(row.deal_id or ""),
            "contact_id": str(row.contact_id or ""),
            "responsible_id": str(row.responsible_id),
            "needs": list(row.needs),
            "frequencies": dict(row.frequencies),
            "status": row.status,
            "version": row.version,
            "created_at": row.created_at.isoformat(),
            "updated_at": row.updated_at.isoformat(),
            "next_due": due,
            "workflow_id": workflow_id(row.id),
        }
