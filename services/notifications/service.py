"""Use cases of the notifications service: each one unit of work, its events in the outbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common.db import PendingEvent, UnitOfWork, utcnow
from services.common.errors import FieldProblem, NotFound, ValidationFailed
from services.common.pagination import Page
from services.notifications import repository as repo
from services.notifications.domain import tasks as rules
from services.notifications.domain.feed import NewNotification
from services.notifications.domain.tasks import NewTask, Status, Task
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
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

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

    async def get_task(self, task_id: int) -> Task:
        async with self._engine.connect() as conn:
            task = await repo.get_task(conn, task_id)
        if task is None:
            raise NotFound(f"task {task_id} does not exist")
        return task

    async def list_tasks(self, where: TaskFilter, *, cursor: str, limit: int) -> Page[Task]:
        """Tasks newest first, filtered."""
        async with self._engine.connect() as conn:
            rows = await repo.list_tasks(conn, where, cursor=cursor, limit=limit)
        return Page.of(rows, limit, key=lambda t: t.id)

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
        return change.task

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
