"""The tasks this gateway has seen: a task's workflow and assignee, by task id.

Both are fixed when the notifications service creates the task (no call changes them), so
a remembered pair never goes stale and needs no expiry; the notifications service stays
the owner of everything that does change (whether the task is open, who sees it, who
stands in for an absent assignee). An answer by the remembered assignee goes straight to
the workflow (routes/tasks.py); anyone else's is checked first, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LIMIT = 20_000


@dataclass(frozen=True)
class TaskOwner:
    workflow_id: str  # "" for a task no process waits on
    assignee_id: str


class TaskOwners:
    """At most `limit` tasks; the one remembered first goes first."""

    def __init__(self, limit: int = LIMIT) -> None:
        self._limit = limit
        self._items: dict[str, TaskOwner] = {}

    def of(self, task_id: int | str) -> TaskOwner | None:
        return self._items.get(str(task_id))

    def remember(self, task: Any) -> None:
        """Remember a `notifications.v1.Task` read from the notifications service."""
        if not task.id or not task.assignee_id or task.id in self._items:
            return
        if len(self._items) >= self._limit:
            del self._items[next(iter(self._items))]
        self._items[task.id] = TaskOwner(task.workflow_id, task.assignee_id)
