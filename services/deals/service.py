"""Use cases of pipelines and deals: each change commits with its timeline and events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common.access import Permission
from services.common.creations import Once, first_made, remember
from services.common.db import UnitOfWork, autocommit_reads, utcnow
from services.common.errors import (
    Conflict,
    FieldProblem,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from services.common.pagination import Page, decode_cursor
from services.deals import (
    deal_pages,
    history_repository,
    move_writes,
    org_repository,
    products_repository,
    repository,
)
from services.deals.access_service import AccessService, DealAccess
from services.deals.admin_service import AdminService
from services.deals.auth_service import AuthService
from services.deals.automation_service import AutomationService
from services.deals.deal_pages import ShownDeal
from services.deals.domain.attributes import clean_attributes
from services.deals.domain.deals import Deal, new_deal
from services.deals.domain.events import DealCreated, DealEvent, DealStageChanged, DealUpdated
from services.deals.domain.history import StageVisit, TimelineEntry, check_entry
from services.deals.domain.pipelines import Pipeline
from services.deals.events import (
    ACTIVITY_KINDS,
    FINISHED_KIND,
    activity_logged,
    process_finished,
    to_pending,
)
from services.deals.folders_repository import make_root
from services.deals.org_service import OrgService
from services.deals.pipeline_service import PipelineService
from services.deals.repository import DealFilter
from services.deals.rules_service import RulesService
from services.deals.tables import creations, outbox

Clock = Callable[[], datetime]
_REASSIGN = "your role may not make someone else responsible for a deal"


class DealsService:
    def __init__(self, engine: AsyncEngine, *, clock: Clock = utcnow) -> None:
        self._engine = self.engine = engine
        self._reads = autocommit_reads(engine)  # reads of one statement (and the access cache's)
        self._now = self.clock = clock
        self.admin = AdminService(engine, clock=clock)
        self.pipelines = PipelineService(engine, clock=clock)
        self.access = AccessService(engine, clock=clock)
        self.org = OrgService(engine, clock=clock, on_change=self.access.cache.clear)
        self.auth = AuthService(engine, clock=clock)
        self.rules = RulesService(engine, clock=clock, cache=self.pipelines.cache)
        self.automation = AutomationService(self, clock=clock)

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, outbox)

    # ---- deals ----
    async def create_deal(
        self,
        *,
        actor_id: int | None,
        pipeline_id: int,
        title: str,
        responsible_id: int | None,
        amount: str,
        currency: str,
        company_name: str,
        contact_name: str,
        fields: dict[str, Any],
        stage_id: int | None,
        idempotency_key: str = "",
    ) -> Deal:
        """A deal in the given stage or the pipeline's first; the actor by default is
        responsible. A retry with the same `idempotency_key` returns the deal made first."""
        async with self._uow() as uow:
            once = Once(actor_id, "deal", idempotency_key)
            made = await first_made(uow.conn, creations, once)
            if made is not None and (first := await repository.get_deal(uow.conn, made)):
                return first
            deal = await self.create_deal_in(
                uow,
                actor_id=actor_id,
                pipeline_id=pipeline_id,
                title=title,
                responsible_id=responsible_id,
                amount=amount,
                currency=currency,
                company_name=company_name,
                contact_name=contact_name,
                fields=fields,
                stage_id=stage_id,
            )
            await remember(uow.conn, creations, once, deal.id)
            return deal

    async def create_deal_in(
        self,
        uow: UnitOfWork,
        *,
        actor_id: int | None,
        pipeline_id: int,
        title: str,
        responsible_id: int | None,
        amount: str,
        currency: str,
        company_name: str,
        contact_name: str,
        fields: dict[str, Any],
        stage_id: int | None,
    ) -> Deal:
        """create_deal within the caller's transaction (a rule's linked deal commits with
        its links)."""
        responsible = responsible_id or actor_id
        if responsible is None:
            raise ValidationFailed(FieldProblem("responsible_id", "is required"))
        now = self._now()
        guard = await self._guard(uow.conn, actor_id)
        if guard is not None:
            guard.access.require(Permission.DEALS_CREATE, "your role may not create deals")
            if responsible != actor_id:
                guard.access.require(Permission.DEALS_REASSIGN, _REASSIGN)
            if stage_id is not None and not guard.rights.may_move_into(pipeline_id, stage_id):
                raise PermissionDenied("your role may not put deals in this stage")
        pipeline = await self.pipelines.cache.get(
            uow.conn, pipeline_id, with_stages=(stage_id,) if stage_id else ()
        )
        await _require_user(uow.conn, responsible)
        deal = new_deal(
            pipeline,
            title=title,
            responsible_id=responsible,
            amount=amount,
            currency=currency,
            company_name=company_name,
            contact_name=contact_name,
            fields=fields,
            stage_id=stage_id,
            actor_id=actor_id,
            now=now,
        )
        deal.id = await repository.insert_deal(uow.conn, deal)
        await history_repository.enter_stage(
            uow.conn, deal_id=deal.id, stage_id=deal.stage_id, at=now, actor_id=actor_id
        )
        await _record(uow, deal, now, (pipeline,))
        return deal

    async def get_deal(self, *, actor_id: int | None, deal_id: int) -> Deal:
        """One deal the actor sees."""
        async with self._reads.connect() as conn:
            return await self._visible_deal(conn, actor_id, deal_id)

    async def show_deal(self, *, actor_id: int | None, deal_id: int) -> ShownDeal:
        """One deal the actor sees, with its links and next activity."""
        async with self._reads.connect() as conn:
            shown = await deal_pages.shown_deal(conn, deal_id)
            if shown is None:
                raise NotFound(f"deal {deal_id} not found")
            deal = shown.deal
            await self._require_sees(conn, actor_id, deal.pipeline_id, deal.responsible_id, deal_id)
        return shown

    async def list_deals(
        self, *, actor_id: int | None, where: DealFilter, cursor: str, limit: int
    ) -> Page[ShownDeal]:
        """Deals the actor sees, newest first, filtered, one page at a time, each with its
        links and next activity."""
        before = decode_cursor(cursor) if cursor else None
        async with self._reads.connect() as conn:
            guard = await self._guard(conn, actor_id)
            if guard is not None:
                where = replace(where, visible=guard.visible())
            rows = await deal_pages.list_shown(conn, where, before_id=before, limit=limit + 1)
        return Page.of(rows, limit, key=lambda d: d.deal.id)

    async def update_deal(
        self,
        *,
        actor_id: int | None,
        deal_id: int,
        expected_version: int,
        changes: dict[str, Any],
        fields: dict[str, Any],
    ) -> Deal:
        """Change the named attributes and merge custom fields (None clears one)."""
        now = self._now()
        async with self._uow() as uow:
            deal = await self._visible_deal(uow.conn, actor_id, deal_id, for_update=True)
            guard = await self._guard(uow.conn, actor_id)
            if guard is not None:
                guard.access.require(Permission.DEALS_EDIT, "your role may not change deals")
                if changes.get("responsible_id", deal.responsible_id) != deal.responsible_id:
                    guard.access.require(Permission.DEALS_REASSIGN, _REASSIGN)
            pipeline = await self.pipelines.cache.get(uow.conn, deal.pipeline_id)
            await _follows_items(uow.conn, deal, changes)
            responsible = changes.get("responsible_id")
            if isinstance(responsible, int) and responsible != deal.responsible_id:
                await _require_user(uow.conn, responsible)
            changed = deal.update(
                pipeline,
                changes=changes,
                field_changes=fields,
                expected_version=expected_version,
                actor_id=actor_id,
                now=now,
            )
            if changed:
                await repository.save_deal(uow.conn, deal)
                await _record(uow, deal, now, (pipeline,))
            return deal

    async def move_deal(
        self,
        *,
        actor_id: int | None,
        deal_id: int,
        stage_id: int,
        expected_version: int,
        comment: str,
        pipeline_id: int | None,
    ) -> Deal:
        """Move a deal to a stage of its pipeline, or of `pipeline_id`."""
        now = self._now()
        async with self._uow() as uow:
            locked = await repository.lock_deal_at_begin(uow, deal_id)
            deal = await self._seen(uow.conn, actor_id, _found(locked, deal_id))
            guard = await self._guard(uow.conn, actor_id)
            if guard is not None:
                guard.access.require(Permission.DEALS_MOVE, "your role may not move deals")
                if not guard.rights.may_move_into(pipeline_id or deal.pipeline_id, stage_id):
                    raise PermissionDenied("your role may not move deals into this stage")
            cache, into = self.pipelines.cache, pipeline_id or deal.pipeline_id
            here = (deal.stage_id, stage_id) if into == deal.pipeline_id else (deal.stage_id,)
            current = await cache.get(uow.conn, deal.pipeline_id, with_stages=here)
            target = current
            if into != current.id:
                target = await cache.get(uow.conn, into, with_stages=(stage_id,))
            deal.move(
                current,
                target,
                stage_id=stage_id,
                expected_version=expected_version,
                actor_id=actor_id,
                comment=comment.strip(),
                now=now,
            )
            (moved,) = deal.events
            deal.events.clear()
            move_writes.save_move(
                uow,
                deal,
                event=to_pending(moved, deal, (current, target)),
                entry=_timeline_entry(moved, deal),
                actor_id=actor_id,
                now=now,
            )
            return deal

    async def _guard(self, conn: AsyncConnection, actor_id: int | None) -> DealAccess | None:
        """The actor's access to deals; None for an internal call, which may do anything."""
        return None if actor_id is None else await self.access.cache.get(conn, actor_id)

    async def _visible_deal(
        self, conn: AsyncConnection, actor_id: int | None, deal_id: int, *, for_update: bool = False
    ) -> Deal:
        """The deal, or NotFound when it does not exist or the actor does not see it (the same
        answer, so that nobody learns of deals they may not see)."""
        deal = _found(await repository.get_deal(conn, deal_id, for_update=for_update), deal_id)
        return await self._seen(conn, actor_id, deal)

    async def _seen(self, conn: AsyncConnection, actor_id: int | None, deal: Deal) -> Deal:
        """The deal if the actor sees it, else NotFound (as for a deal that does not exist)."""
        await self._require_sees(conn, actor_id, deal.pipeline_id, deal.responsible_id, deal.id)
        return deal

    async def _require_sees(
        self,
        conn: AsyncConnection,
        actor_id: int | None,
        pipeline_id: int,
        responsible_id: int,
        deal_id: int,
    ) -> None:
        """NotFound unless the actor sees the deal of that pipeline and responsible."""
        guard = await self._guard(conn, actor_id)
        if guard is not None and not guard.sees(
            pipeline_id=pipeline_id, responsible_id=responsible_id
        ):
            raise NotFound(f"deal {deal_id} not found")

    # ---- history ----
    async def timeline(
        self, *, actor_id: int | None, deal_id: int, cursor: str, limit: int
    ) -> Page[TimelineEntry]:
        """A deal's timeline, newest first (NotFound as `_visible_deal`)."""
        before = decode_cursor(cursor) if cursor else None
        async with self._reads.connect() as conn:
            owner, rows = await history_repository.deal_timeline(
                conn, deal_id, before_id=before, limit=limit + 1
            )
            if owner is None:
                raise NotFound(f"deal {deal_id} not found")
            await self._require_sees(conn, actor_id, *owner, deal_id)
        return Page.of(rows, limit, key=lambda e: e.id)

    async def add_timeline_entry(
        self,
        *,
        actor_id: int | None,
        deal_id: int,
        kind: str,
        text: str,
        data: dict[str, Any],
        idempotency_key: str,
    ) -> TimelineEntry:
        """Add an entry (a note unless a kind is given); a retry with the same idempotency key
        returns the first one."""
        kind = kind or "note"
        check_entry(kind, text, idempotency_key)
        async with self._uow() as uow:
            deal = await self._visible_deal(uow.conn, actor_id, deal_id)
            guard = await self._guard(uow.conn, actor_id)
            if guard is not None:  # a note or a logged touch changes the deal (and fires rules)
                guard.access.require(Permission.DEALS_EDIT, "your role may not change deals")
            entry = await history_repository.add_entry(
                uow.conn,
                deal_id=deal_id,
                kind=kind,
                text=text,
                actor_id=actor_id,
                data=data,
                at=self._now(),
                idempotency_key=idempotency_key or None,
            )
            if entry is None:
                entry = await history_repository.entry_by_key(uow.conn, idempotency_key)
                if entry is None or entry.deal_id != deal_id:
                    raise Conflict("this idempotency key was used for another deal")
            elif kind in ACTIVITY_KINDS:
                uow.emit(
                    activity_logged(
                        deal, kind=kind, text=text, entry_id=entry.id, actor_id=actor_id
                    )
                )
            elif kind == FINISHED_KIND:
                uow.emit(process_finished(deal, data=data, entry_id=entry.id, actor_id=actor_id))
            return entry

    async def stage_history(
        self, *, actor_id: int | None, deal_id: int
    ) -> tuple[list[StageVisit], datetime]:
        """The deal's visits to stages, oldest first, and the time they were measured at."""
        async with self._engine.connect() as conn:
            await self._visible_deal(conn, actor_id, deal_id)
            return await history_repository.stage_visits(conn, deal_id), self._now()


def _found(deal: Deal | None, deal_id: int) -> Deal:
    if deal is None:
        raise NotFound(f"deal {deal_id} not found")
    return deal


async def _follows_items(conn: AsyncConnection, deal: Deal, changes: dict[str, Any]) -> None:
    """A deal with line items takes its amount (and keeps its currency) from them."""
    named = [k for k in ("amount", "currency") if k in changes]
    if named and await products_repository.has_items(conn, deal.id):
        current = {"amount": deal.amount, "currency": deal.currency}
        clean = clean_attributes({k: changes[k] for k in named})
        moved = [k for k in named if clean[k] != current[k]]
        if moved:
            raise ValidationFailed(
                [FieldProblem(k, "follows the deal's line items (PUT /items)") for k in moved]
            )


async def _require_user(conn: AsyncConnection, user_id: int) -> None:
    user = await org_repository.get_user(conn, user_id)
    if user is None or not user.active:
        raise ValidationFailed(FieldProblem("responsible_id", "is not an active user"))


async def _record(
    uow: UnitOfWork, deal: Deal, now: datetime, pipelines: tuple[Pipeline, ...] = ()
) -> None:
    """Turn the deal's recorded events into outbox events and timeline entries (with the
    deal's `pipelines`, when it was read under its lock or is new: the events' automation
    facts, `events.to_pending`)."""
    for event in deal.events:
        uow.emit(to_pending(event, deal, pipelines))
        if isinstance(event, DealCreated):
            await make_root(uow.conn, deal_id=deal.id, name=deal.title, actor_id=event.actor_id)
        kind, text, data = _timeline_entry(event, deal)
        await history_repository.add_entry(
            uow.conn,
            deal_id=deal.id,
            kind=kind,
            text=text,
            actor_id=event.actor_id,
            data=data,
            at=now,
        )
    deal.events.clear()


def _timeline_entry(event: DealEvent, deal: Deal) -> tuple[str, str, dict[str, Any]]:
    """The timeline entry (kind, text, data) of a deal's event."""
    match event:
        case DealCreated():
            return "created", f"Deal created: {deal.title}", {}
        case DealUpdated(before=before, after=after):
            return "updated", "Changed " + ", ".join(after), {"before": before, "after": after}
        case DealStageChanged():
            text = f"{event.from_stage} → {event.to_stage}"
            text += f": {event.comment}" if event.comment else ""
            data = {
                "from_stage_id": str(event.from_stage_id),
                "to_stage_id": str(event.to_stage_id),
                "seconds_in_previous_stage": event.seconds_in_previous_stage,
                "comment": event.comment,
            }
            return "stage_changed", text, data
    raise AssertionError(f"unknown deal event {event!r}")


# For the lead conversion (leads_service.py), which creates a deal in its own transaction.
require_active_user = _require_user
record_deal = _record
