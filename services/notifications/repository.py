"""Reading and writing tasks and notifications on a connection the caller owns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.pagination import decode_cursor
from services.notifications.domain.answers import AnswerField
from services.notifications.domain.tasks import NewTask, Status, Task
from services.notifications.tables import notifications, tasks


@dataclass(frozen=True)
class Notification:
    id: int
    user_id: int
    kind: str
    title: str
    body: str
    deal_id: int | None
    created_at: datetime
    event_id: str | None

    def summary(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "user_id": str(self.user_id),
            "kind": self.kind,
            "title": self.title,
            "body": self.body,
            "deal_id": str(self.deal_id or ""),
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class TaskFilter:
    assignee_id: int | None = None
    deal_id: int | None = None
    status: Status | None = None
    workflow_id: str | None = None
    watcher_id: int | None = None
    # Only tasks a user sees in person: assigned to one of these users or watched by `watched_by`.
    assignee_in: frozenset[int] | None = None
    watched_by: int | None = None


def _task(row: sa.Row[Any]) -> Task:
    return Task(
        id=row.id,
        assignee_id=row.assignee_id,
        title=row.title,
        status=Status(row.status),
        created_at=row.created_at,
        description=row.description,
        watcher_ids=tuple(row.watcher_ids),
        deadline=row.deadline,
        deal_id=row.deal_id,
        outcomes=tuple(row.outcomes),
        workflow_id=row.workflow_id,
        kind=row.kind,
        outcome=row.outcome,
        result=row.result,
        completed_by=row.completed_by,
        completed_at=row.completed_at,
        cancelled_at=row.cancelled_at,
        cancel_reason=row.cancel_reason,
        idempotency_key=row.idempotency_key,
        answer_fields=tuple(AnswerField.of(f) for f in row.answer_fields),
        comment_outcomes=tuple(row.comment_outcomes),
        checklist=tuple(row.checklist),
        rule_id=row.rule_id,
    )


def notification_of(row: sa.Row[Any]) -> Notification:
    return Notification(
        row.id,
        row.user_id,
        row.kind,
        row.title,
        row.body,
        row.deal_id,
        row.created_at,
        str(row.event_id) if row.event_id else None,
    )


async def insert_task(conn: AsyncConnection, new: NewTask, *, now: datetime) -> Task | None:
    """The inserted task, or None when a task with the same idempotency key exists."""
    row = (
        await conn.execute(
            insert(tasks)
            .values(
                assignee_id=new.assignee_id,
                watcher_ids=list(new.watcher_ids),
                title=new.title,
                description=new.description,
                deadline=new.deadline,
                deal_id=new.deal_id,
                status=Status.OPEN.value,
                outcomes=list(new.outcomes),
                workflow_id=new.workflow_id,
                kind=new.kind,
                created_at=now,
                idempotency_key=new.idempotency_key,
                answer_fields=[f.as_dict() for f in new.answer_fields],
                comment_outcomes=list(new.comment_outcomes),
                checklist=list(new.checklist),
                rule_id=new.rule_id,
            )
            .on_conflict_do_nothing(index_elements=[tasks.c.idempotency_key])
            .returning(tasks)
        )
    ).first()
    return _task(row) if row is not None else None


async def task_by_key(conn: AsyncConnection, key: str) -> Task | None:
    row = (await conn.execute(sa.select(tasks).where(tasks.c.idempotency_key == key))).first()
    return _task(row) if row is not None else None


async def get_task(conn: AsyncConnection, task_id: int, *, for_update: bool = False) -> Task | None:
    query = sa.select(tasks).where(tasks.c.id == task_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return _task(row) if row is not None else None


async def save_closed_task(conn: AsyncConnection, task: Task) -> None:
    """Write the fields a completion or a cancellation sets."""
    await conn.execute(
        tasks.update()
        .where(tasks.c.id == task.id)
        .values(
            status=task.status.value,
            outcome=task.outcome,
            result=task.result,
            completed_by=task.completed_by,
            completed_at=task.completed_at,
            cancelled_at=task.cancelled_at,
            cancel_reason=task.cancel_reason,
        )
    )


async def list_tasks(
    conn: AsyncConnection, where: TaskFilter, *, cursor: str, limit: int
) -> list[Task]:
    """Up to limit + 1 tasks, newest first (the extra one tells there is a next page)."""
    query = sa.select(tasks).order_by(tasks.c.id.desc()).limit(limit + 1)
    if where.assignee_id is not None:
        query = query.where(tasks.c.assignee_id == where.assignee_id)
    if where.deal_id is not None:
        query = query.where(tasks.c.deal_id == where.deal_id)
    if where.status is not None:
        query = query.where(tasks.c.status == where.status.value)
    if where.workflow_id is not None:
        query = query.where(tasks.c.workflow_id == where.workflow_id)
    if where.watcher_id is not None:
        query = query.where(tasks.c.watcher_ids.contains([where.watcher_id]))
    if where.assignee_in is not None:
        in_person: sa.ColumnElement[bool] = tasks.c.assignee_id.in_(sorted(where.assignee_in))
        if where.watched_by is not None:
            in_person = sa.or_(in_person, tasks.c.watcher_ids.contains([where.watched_by]))
        query = query.where(in_person)
    if cursor:
        query = query.where(tasks.c.id < decode_cursor(cursor))
    return [_task(r) for r in (await conn.execute(query)).all()]


async def notification_by_key(conn: AsyncConnection, key: str) -> Notification | None:
    query = sa.select(notifications).where(notifications.c.idempotency_key == key)
    row = (await conn.execute(query)).first()
    return notification_of(row) if row is not None else None


async def list_notifications(
    conn: AsyncConnection, user_id: int, *, cursor: str, limit: int
) -> list[Notification]:
    """Up to limit + 1 of a user's notifications, newest first."""
    query = (
        sa.select(notifications)
        .where(notifications.c.user_id == user_id, notifications.c.in_app.is_(True))
        .order_by(notifications.c.id.desc())
        .limit(limit + 1)
    )
    if cursor:
        query = query.where(notifications.c.id < decode_cursor(cursor))
    return [notification_of(r) for r in (await conn.execute(query)).all()]
