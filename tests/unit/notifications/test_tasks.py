"""Task rules: creation checks, the transitions and the retries they allow."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.common.errors import Conflict, ValidationFailed
from services.notifications.domain.tasks import (
    Status,
    Task,
    cancel,
    check_transition,
    complete,
    new_task,
    parse_status,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)


def open_task(outcomes: tuple[str, ...] = ("approved", "rejected")) -> Task:
    return Task(
        id=1,
        assignee_id=7,
        title="Hand over",
        status=Status.OPEN,
        created_at=NOW,
        outcomes=outcomes,
    )


def fields(exc: ValidationFailed) -> set[str]:
    return {p.field for p in exc.problems}


@pytest.mark.parametrize(
    ("from_", "to", "allowed"),
    [
        (Status.OPEN, Status.COMPLETED, True),
        (Status.OPEN, Status.CANCELLED, True),
        (Status.OPEN, Status.OPEN, False),
        (Status.COMPLETED, Status.CANCELLED, False),
        (Status.COMPLETED, Status.OPEN, False),
        (Status.CANCELLED, Status.COMPLETED, False),
        (Status.CANCELLED, Status.OPEN, False),
    ],
)
def test_transitions(from_: Status, to: Status, allowed: bool) -> None:
    if allowed:
        check_transition(from_, to)
    else:
        with pytest.raises(Conflict):
            check_transition(from_, to)


def test_complete_open_task_with_allowed_outcome() -> None:
    change = complete(open_task(), outcome="approved", result={"n": 1}, by=7, at=LATER)
    assert change.changed
    assert change.task.status is Status.COMPLETED
    assert (change.task.outcome, change.task.completed_by) == ("approved", 7)
    assert change.task.completed_at == LATER and change.task.result == {"n": 1}


def test_outcome_must_be_one_of_the_outcomes() -> None:
    with pytest.raises(ValidationFailed) as err:
        complete(open_task(), outcome="maybe", result=None, by=7, at=LATER)
    assert fields(err.value) == {"outcome"}
    with pytest.raises(ValidationFailed, match="required"):
        complete(open_task(), outcome="", result=None, by=7, at=LATER)


def test_any_outcome_when_the_task_lists_none() -> None:
    change = complete(open_task(outcomes=()), outcome="", result=None, by=None, at=LATER)
    assert change.task.status is Status.COMPLETED and change.task.outcome is None


def test_completing_again_the_same_way_is_a_retry() -> None:
    done = complete(open_task(), outcome="approved", result=None, by=7, at=NOW).task
    again = complete(done, outcome="approved", result={"other": True}, by=7, at=LATER)
    assert not again.changed and again.task == done


def test_completing_again_differently_is_a_conflict() -> None:
    done = complete(open_task(), outcome="approved", result=None, by=7, at=NOW).task
    with pytest.raises(Conflict):
        complete(done, outcome="rejected", result=None, by=7, at=LATER)
    with pytest.raises(Conflict):
        complete(done, outcome="approved", result=None, by=8, at=LATER)


def test_cancel_only_open_and_idempotent() -> None:
    cancelled = cancel(open_task(), reason="deal lost", at=LATER)
    assert cancelled.changed and cancelled.task.status is Status.CANCELLED
    assert cancelled.task.cancel_reason == "deal lost"
    again = cancel(cancelled.task, reason="", at=LATER)
    assert not again.changed and again.task == cancelled.task
    with pytest.raises(Conflict):
        complete(cancelled.task, outcome="approved", result=None, by=7, at=LATER)
    done = complete(open_task(), outcome="approved", result=None, by=7, at=NOW).task
    with pytest.raises(Conflict):
        cancel(done, reason="", at=LATER)


def test_new_task_checks_every_field_at_once() -> None:
    with pytest.raises(ValidationFailed) as err:
        new_task(assignee_id=1, title="  ", outcomes=("a", "a", ""), kind="k" * 201)
    assert fields(err.value) == {"title", "outcomes", "outcomes[2]", "kind"}
    with pytest.raises(ValidationFailed):
        new_task(assignee_id=1, title="x" * 501)
    ok = new_task(assignee_id=1, title=" Call ", watcher_ids=(2, 2, 3), workflow_id="")
    assert (ok.title, ok.watcher_ids, ok.workflow_id, ok.idempotency_key) == (
        "Call",
        (2, 3),
        None,
        None,
    )
    assert len(new_task(assignee_id=1, title="x" * 500).title) == 500


def test_parse_status() -> None:
    assert parse_status("open") is Status.OPEN
    with pytest.raises(ValidationFailed):
        parse_status("done")


def test_a_task_of_an_automation_rule_keeps_its_checklist_and_rule() -> None:
    task = new_task(assignee_id=1, title="Meet", checklist=(" Agenda ", "Invite"), rule_id="5")
    assert (task.checklist, task.rule_id) == (("Agenda", "Invite"), "5")
    assert new_task(assignee_id=1, title="Plain").rule_id is None
    with pytest.raises(ValidationFailed) as err:
        new_task(assignee_id=1, title="Meet", checklist=("ok", " "))
    assert [p.field for p in err.value.problems] == ["checklist[1]"]
