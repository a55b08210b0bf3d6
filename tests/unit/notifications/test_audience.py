"""Who sees a task and who answers it: the assignee, the watchers, whoever sees the
assignee's records; the assignee answers, or the substitute while they are away."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from services.common.access import Scope
from services.notifications.domain.audience import Answerer, answerer, seen_in_person
from services.notifications.domain.feed import notices_for_watchers
from services.notifications.domain.tasks import Status, Task

ASSIGNEE, WATCHER, HEAD, SUBSTITUTE, STRANGER = 7, 8, 9, 10, 11
TASK = Task(
    id=5,
    assignee_id=ASSIGNEE,
    title="Agree the layout",
    status=Status.OPEN,
    created_at=datetime(2026, 12, 1, tzinfo=UTC),
    watcher_ids=(WATCHER, HEAD),
    deal_id=42,
)


def test_seen_in_person() -> None:
    nobody = Scope.only()
    assert seen_in_person(TASK, ASSIGNEE, nobody)
    assert seen_in_person(TASK, WATCHER, nobody)
    assert seen_in_person(TASK, STRANGER, Scope.only(ASSIGNEE))
    assert seen_in_person(TASK, STRANGER, Scope.all())
    assert not seen_in_person(TASK, STRANGER, Scope.only(WATCHER))


def test_the_assignee_answers_and_a_watcher_does_not() -> None:
    assert answerer(TASK, ASSIGNEE, stand_in=ASSIGNEE) == Answerer(True)
    assert answerer(TASK, WATCHER, stand_in=ASSIGNEE) == Answerer(False)


def test_the_substitute_answers_for_the_absent_assignee_only() -> None:
    assert answerer(TASK, SUBSTITUTE, stand_in=SUBSTITUTE) == Answerer(True, ASSIGNEE)
    assert answerer(TASK, SUBSTITUTE, stand_in=ASSIGNEE) == Answerer(False)  # back at work
    assert answerer(TASK, SUBSTITUTE, stand_in=None) == Answerer(False)


def test_watchers_hear_the_outcome_but_not_the_one_who_closed_it() -> None:
    done = replace(TASK, status=Status.COMPLETED, outcome="approved", completed_by=HEAD)
    (notice,) = notices_for_watchers(done)
    assert (notice.user_id, notice.kind, notice.deal_id) == (WATCHER, "task.completed", 42)
    assert notice.title == "Task done (approved): Agree the layout"
    assert notice.idempotency_key == "task-5/completed/watcher-8"


def test_watchers_hear_of_a_cancellation_with_its_reason() -> None:
    gone = replace(TASK, status=Status.CANCELLED, cancel_reason="the deal was lost")
    notices = notices_for_watchers(gone)
    assert [(n.user_id, n.kind, n.body) for n in notices] == [
        (WATCHER, "task.cancelled", "the deal was lost"),
        (HEAD, "task.cancelled", "the deal was lost"),
    ]
    assert notices_for_watchers(TASK) == []  # an open task tells nobody
