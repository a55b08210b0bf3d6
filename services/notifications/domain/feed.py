"""The in-app feed: what a notification is, and which deal events become one.

Plain data and rules, no I/O. A notification made from an event keeps the event's id, so
the same event never notifies the same user twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from services.common.errors import FieldProblem, ValidationFailed
from services.common.events import Envelope
from services.notifications.domain.tasks import MAX_KEY, MAX_TEXT, MAX_TITLE, Status, Task

DEAL_CREATED = "deals.deal.created"
DEAL_STAGE_CHANGED = "deals.deal.stage_changed"
DEAL_UPDATED = "deals.deal.updated"


@dataclass(frozen=True)
class NewNotification:
    user_id: int
    kind: str
    title: str
    body: str = ""
    deal_id: int | None = None
    event_id: uuid.UUID | None = None
    idempotency_key: str | None = None


def new_notification(
    *,
    user_id: int,
    kind: str,
    title: str,
    body: str = "",
    deal_id: int | None = None,
    idempotency_key: str = "",
) -> NewNotification:
    """Check a notification to create; every problem is reported at once."""
    problems: list[FieldProblem] = []
    kind, title = kind.strip(), title.strip()
    if not kind:
        problems.append(FieldProblem("kind", "must not be empty"))
    elif len(kind) > MAX_KEY:
        problems.append(FieldProblem("kind", f"must be at most {MAX_KEY} characters"))
    if not title:
        problems.append(FieldProblem("title", "must not be empty"))
    elif len(title) > MAX_TITLE:
        problems.append(FieldProblem("title", f"must be at most {MAX_TITLE} characters"))
    if len(body) > MAX_TEXT:
        problems.append(FieldProblem("body", f"must be at most {MAX_TEXT} characters"))
    if len(idempotency_key) > MAX_KEY:
        problems.append(FieldProblem("idempotency_key", f"must be at most {MAX_KEY} characters"))
    if problems:
        raise ValidationFailed(problems)
    return NewNotification(user_id, kind, title, body, deal_id, None, idempotency_key or None)


def notices_for_watchers(task: Task) -> list[NewNotification]:
    """What the watchers of a task that has just closed are told: its outcome, or that it
    was cancelled. The watcher who closed it is not told; the key makes a retry a no-op."""
    match task.status:
        case Status.COMPLETED:
            outcome = f" ({task.outcome})" if task.outcome else ""
            kind, text, body = "task.completed", f"Task done{outcome}: {task.title}", ""
        case Status.CANCELLED:
            kind, text = "task.cancelled", f"Task cancelled: {task.title}"
            body = task.cancel_reason or ""
        case _:
            return []
    return [
        NewNotification(
            user_id=watcher,
            kind=kind,
            title=text[:MAX_TITLE],
            body=body[:MAX_TEXT],
            deal_id=task.deal_id,
            idempotency_key=f"task-{task.id}/{task.status.value}/watcher-{watcher}",
        )
        for watcher in task.watcher_ids
        if watcher != task.completed_by
    ]


def notification_for_deal_event(event: Envelope) -> NewNotification | None:
    """The notification a deal event gives its responsible user, or None for no notice.

    Created and stage-changed deals always notify; an update only when it changed the
    responsible user (then the new one hears of it).
    """
    if event.type not in (DEAL_CREATED, DEAL_STAGE_CHANGED, DEAL_UPDATED):
        return None
    data = event.data
    deal = data.get("deal")
    if not isinstance(deal, dict):
        raise ValidationFailed(FieldProblem("data.deal", "must be the deal summary"))
    user_id = _record_id(deal.get("responsible_id"), "data.deal.responsible_id")
    deal_id = _record_id(deal.get("id"), "data.deal.id")
    if user_id is None:
        return None
    title = str(deal.get("title") or f"#{deal_id}")
    match event.type:
        case "deals.deal.created":
            kind, text, body = "deal.created", f"New deal: {title}", "You are responsible."
        case "deals.deal.stage_changed":
            before, after = _stage_name(data, "from_stage"), _stage_name(data, "to_stage")
            kind, text, body = "deal.stage_changed", f"Deal moved: {title}", f"{before} → {after}"
        case _:
            was, now = _section(data, "before"), _section(data, "after")
            if "responsible_id" not in now or str(was.get("responsible_id")) == str(
                now["responsible_id"]
            ):
                return None
            kind, text, body = "deal.assigned", f"Deal assigned to you: {title}", ""
    return NewNotification(user_id, kind, text[:MAX_TITLE], body, deal_id, event.id)


def _record_id(value: Any, where: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        parsed = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(FieldProblem(where, "must be a record id")) from None
    if parsed <= 0:
        raise ValidationFailed(FieldProblem(where, "must be a record id"))
    return parsed


def _section(data: dict[str, Any], key: str) -> dict[str, Any]:
    section = data.get(key) or {}
    if not isinstance(section, dict):
        raise ValidationFailed(FieldProblem(f"data.{key}", "must be an object"))
    return section


def _stage_name(data: dict[str, Any], key: str) -> str:
    """A stage as the deals service sends it: a name, or an object with a name."""
    stage = data.get(key)
    if isinstance(stage, dict):
        return str(stage.get("name") or stage.get("id") or "?")
    return str(stage) if stage not in (None, "") else "?"
