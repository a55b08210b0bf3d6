"""Who sees a task and who may answer it: the one place of these rules.

Plain rules, no I/O: the facts that live elsewhere (a user's scope, whether they see a deal,
who stands in for an absent user) are asked by the service and passed in. A task is seen by
its assignee, its watchers, whoever's scope sees the assignee, whoever sees its deal, and the
assignee's current substitute. It is answered by its assignee, or by the substitute while
the assignee is absent; a watcher only watches.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.common.access import Scope
from services.notifications.domain.tasks import Task


def seen_in_person(task: Task, actor: int, scope: Scope) -> bool:
    """Whether the actor sees the task by who they are, without asking about its deal."""
    return actor == task.assignee_id or actor in task.watcher_ids or scope.sees(task.assignee_id)


def stands_in(actor: int, *, for_user: int, stand_in: int | None) -> bool:
    """Whether the actor acts for `for_user` now: `stand_in` is who acts for them (the
    user themself while present)."""
    return stand_in == actor != for_user


@dataclass(frozen=True)
class Answerer:
    """May the actor answer, and for whom (the absent assignee, or None for themself)."""

    allowed: bool
    stands_in_for: int | None = None


def answerer(task: Task, actor: int, *, stand_in: int | None) -> Answerer:
    """The assignee answers; so does their substitute while they are absent."""
    if actor == task.assignee_id:
        return Answerer(True)
    if stands_in(actor, for_user=task.assignee_id, stand_in=stand_in):
        return Answerer(True, stands_in_for=task.assignee_id)
    return Answerer(False)
