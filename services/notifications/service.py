"""Use cases of the notifications service: each one unit of work, its events in the outbox.

A call with an actor (the gateway's, on behalf of a signed-in user) sees only the tasks the
actor may see (domain/audience.py); a call without one comes from inside the system (a
workflow activity, a consumer) and is trusted.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common.db import PendingEvent, UnitOfWork, utcnow
from services.common.errors import FieldProblem, NotFound, PermissionDenied, ValidationFailed
from services.common.pagination import Page
from services.notifications import repository as repo
from services.notifications.domain import tasks as rules
from services.notifications.domain.audience import (
    Answerer,
    answerer,
    seen_in_person,
    stands_in,
)
from services.notifications.domain.feed import NewNotification, notices_for_watchers
from services.notifications.domain.tasks import NewTask, Status, Task
from services.notifications.people import People
from services.notifications.repository import Notification, TaskFilter
from services.notifications.tables import outbox

TASK_CREATED = "notifications.task.created"
TASK_COMPLETED = "notifications.task.completed"
TASK_CANCELLED = "notifications.task.cancelled"


def _task_event(
    type_: str, task: Task, *, before: Status | None, actor: int | None, **extra: Any
) -> PendingEvent:
    data: dict[str, Any] = {
        "task": task.summary(),
        "before": {"status": before.value if before else None},
        "after": {"status": task.status.value},
        **extra,
    }
    return PendingEvent(
        type=type_, subject=f"task/{task.id}", data=data, actor=str(actor) if actor else ""
    )


class NotificationsService:
    def __init__(self, engine: AsyncEngine, *, people: People | None = None) -> None:
        self._engine = self.engine = engine
        self._people = people

    @property
    def people(self) -> People:
        if self._people is None:
            raise PermissionDenied("access cannot be checked: the deals service is not configured")
        return self._people

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, outbox)

    async def create_task(self, new: NewTask, *, actor: int | None) -> Task:
        """Create a task; a retry with the same idempotency key returns the first one."""
        async with self._uow() as uow:
            task = await repo.insert_task(uow.conn, new, now=utcnow())
            if task is not None:
                uow.emit(_task_event(TASK_CREATED, task, before=None, actor=actor))
                return task
            assert new.idempotency_key is not None  # only a key can make the insert a no-op
            first = await repo.task_by_key(uow.conn, new.idempotency_key)
        if first is None:  # pragma: no cover - a key's row is never deleted
            raise NotFound("the task of this idempotency key is gone")
        if not new.same_request(first):
            raise ValidationFailed(
                FieldProblem("idempotency_key", "was already used for a different task")
            )
        return first

    async def get_task(self, task_id: int, *, actor: int | None = None) -> Task:
        """The task, if the actor may see it (NotFound otherwise: no existence leak)."""
        async with self._engine.connect() as conn:
            task = await repo.get_task(conn, task_id)
        if task is None or (actor is not None and not await self._sees(task, actor)):
            raise NotFound(f"task {task_id} does not exist")
        return task

    async def check_answerer(self, task_id: int, *, actor: int | None) -> tuple[Task, Answerer]:
        """Whether the actor may answer the task (and for whom); NotFound unless they see it."""
        task = await self.get_task(task_id, actor=actor)
        if actor is None or actor == task.assignee_id:
            return task, Answerer(True)
        return task, answerer(task, actor, stand_in=await self.people.stand_in(task.assignee_id))

    async def _sees(self, task: Task, actor: int) -> bool:
        if seen_in_person(task, actor, (await self.people.access(actor)).scope):
            return True
        if task.deal_id is not None and await self.people.sees_deal(task.deal_id, actor):
            return True
        stand_in = await self.people.stand_in(task.assignee_id)
        return stands_in(actor, for_user=task.assignee_id, stand_in=stand_in)

    async def list_tasks(
        self, where: TaskFilter, *, actor: int | None = None, cursor: str, limit: int
    ) -> Page[Task]:
        """Tasks newest first, filtered, of those the actor may see."""
        if actor is not None:
            where = await self._visible_part(where, actor)
        async with self._engine.connect() as conn:
            rows = await repo.list_tasks(conn, where, cursor=cursor, limit=limit)
        return Page.of(rows, limit, key=lambda t: t.id)

    async def _visible_part(self, where: TaskFilter, actor: int) -> TaskFilter:
        """The filter narrowed to what the actor sees; refused when it names what they
        may not see (someone else's tasks: 403, a deal they do not see: 404)."""
        scope = (await self.people.access(actor)).scope
        assignee, watcher = where.assignee_id, where.watcher_id
        if assignee not in (None, actor) and not scope.sees(assignee):
            assert assignee is not None
            stand_in = await self.people.stand_in(assignee)
            if not stands_in(actor, for_user=assignee, stand_in=stand_in):
                raise PermissionDenied("you may not see this user's tasks")
        if watcher not in (None, actor) and not scope.sees(watcher):
            raise PermissionDenied("you may not see the tasks this user watches")
        if assignee is not None or watcher is not None:
            return where  # every task listed is one the actor sees in person
        if where.deal_id is not None:
            if not await self.people.sees_deal(where.deal_id, actor):
                raise NotFound(f"deal {where.deal_id} not found")
            return where
        if scope.everyone:
            return where
        return replace(where, assignee_in=scope.user_ids | {actor}, watched_by=actor)

    async def complete_task(
        self,
        task_id: int,
        *,
        outcome: str,
        result: dict[str, Any] | None,
        completed_by: int | None,
    ) -> Task:
        """Complete an open task; the same completion again returns it unchanged."""
        async with self._uow() as uow:
            task = await self._locked(uow.conn, task_id)
            change = rules.complete(
                task, outcome=outcome, result=result, by=completed_by, at=utcnow()
            )
            if change.changed:
                await repo.save_closed_task(uow.conn, change.task)
                uow.emit(
                    _task_event(
                        TASK_COMPLETED,
                        change.task,
                        before=task.status,
                        actor=completed_by,
                        outcome=change.task.outcome,
                        result=change.task.result,
                        completed_by=completed_by,
                    )
                )
                await self._tell_watchers(uow.conn, change.task)
        return change.task

    async def cancel_task(self, task_id: int, *, reason: str, actor: int | None) -> Task:
        """Cancel an open task; cancelling a cancelled one returns it unchanged."""
        async with self._uow() as uow:
            task = await self._locked(uow.conn, task_id)
            change = rules.cancel(task, reason=reason, at=utcnow())
            if change.changed:
                await repo.save_closed_task(uow.conn, change.task)
                uow.emit(
                    _task_event(
                        TASK_CANCELLED, change.task, before=task.status, actor=actor, reason=reason
                    )
                )
                await self._tell_watchers(uow.conn, change.task)
        return change.task

    async def _tell_watchers(self, conn: AsyncConnection, task: Task) -> None:
        """In the transaction that closes the task, so a watcher hears of it exactly once."""
        now = utcnow()
        for notice in notices_for_watchers(task):
            await repo.insert_notification(conn, notice, now=now)

    async def _locked(self, conn: AsyncConnection, task_id: int) -> Task:
        task = await repo.get_task(conn, task_id, for_update=True)
        if task is None:
            raise NotFound(f"task {task_id} does not exist")
        return task

    async def create_notification(self, new: NewNotification) -> Notification:
        """Add to a user's feed; a retry with the same idempotency key returns the first."""
        async with self._engine.begin() as conn:
            created = await repo.insert_notification(conn, new, now=utcnow())
            if created is not None:
                return created
            first = (
                await repo.notification_by_key(conn, new.idempotency_key)
                if new.idempotency_key
                else None
            )
        if first is None:  # pragma: no cover - only a key or an event id can conflict
            raise NotFound("the notification of this idempotency key is gone")
        if (first.user_id, first.kind, first.title) != (new.user_id, new.kind, new.title):
            raise ValidationFailed(
                FieldProblem("idempotency_key", "was already used for a different notification")
            )
        return first

    async def list_notifications(
        self, user_id: int, *, cursor: str, limit: int
    ) -> Page[Notification]:
        """A user's feed, newest first."""
        async with self._engine.connect() as conn:
            rows = await repo.list_notifications(conn, user_id, cursor=cursor, limit=limit)
        return Page.of(rows, limit, key=lambda n: n.id)
