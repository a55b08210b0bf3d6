"""A task a person does: what it asks, who does it, and how it may end.

Plain data and rules, no I/O. A task is open until it is completed (with one of its
outcomes, when it has any) or cancelled; both ends are final. Completing or cancelling
again the same way is a retry and changes nothing, because activities retry.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from services.common.errors import Conflict, FieldProblem, ValidationFailed
from services.notifications.domain.answers import AnswerField, answer_problems

MAX_TITLE = 500
MAX_TEXT = 10_000
MAX_KEY = 200


class Status(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


def parse_status(value: str, field_name: str = "status") -> Status:
    try:
        return Status(value)
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise ValidationFailed(FieldProblem(field_name, f"must be one of: {allowed}")) from None


@dataclass(frozen=True)
class NewTask:
    """What CreateTask asks for, checked."""

    assignee_id: int
    title: str
    description: str = ""
    watcher_ids: tuple[int, ...] = ()
    deadline: datetime | None = None
    deal_id: int | None = None
    outcomes: tuple[str, ...] = ()
    workflow_id: str | None = None
    kind: str = ""
    idempotency_key: str | None = None
    answer_fields: tuple[AnswerField, ...] = ()
    comment_outcomes: tuple[str, ...] = ()
    checklist: tuple[str, ...] = ()
    rule_id: str | None = None

    def same_request(self, task: Task) -> bool:
        """Whether `task` is what this request would have created (a retry, not a reuse)."""
        return (
            task.assignee_id == self.assignee_id
            and task.title == self.title
            and task.deal_id == self.deal_id
            and task.workflow_id == self.workflow_id
            and task.kind == self.kind
            and task.outcomes == self.outcomes
            and task.answer_fields == self.answer_fields
            and task.comment_outcomes == self.comment_outcomes
        )


@dataclass(frozen=True)
class Task:
    id: int
    assignee_id: int
    title: str
    status: Status
    created_at: datetime
    description: str = ""
    watcher_ids: tuple[int, ...] = ()
    deadline: datetime | None = None
    deal_id: int | None = None
    outcomes: tuple[str, ...] = ()
    workflow_id: str | None = None
    kind: str = ""
    outcome: str | None = None
    result: dict[str, Any] | None = None
    completed_by: int | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    idempotency_key: str | None = None
    answer_fields: tuple[AnswerField, ...] = ()
    comment_outcomes: tuple[str, ...] = ()
    checklist: tuple[str, ...] = ()
    rule_id: str | None = None

    def summary(self) -> dict[str, Any]:
        """The task as events carry it."""
        return {
            "id": self.id,
            "assignee_id": self.assignee_id,
            "watcher_ids": list(self.watcher_ids),
            "title": self.title,
            "deal_id": self.deal_id,
            "workflow_id": self.workflow_id,
            "kind": self.kind,
            "status": self.status.value,
            "outcomes": list(self.outcomes),
            "outcome": self.outcome,
            "deadline": self.deadline.isoformat() if self.deadline else None,
        }


def new_task(
    *,
    assignee_id: int,
    title: str,
    description: str = "",
    watcher_ids: tuple[int, ...] = (),
    deadline: datetime | None = None,
    deal_id: int | None = None,
    outcomes: tuple[str, ...] = (),
    workflow_id: str = "",
    kind: str = "",
    idempotency_key: str = "",
    answer_fields: tuple[AnswerField, ...] = (),
    comment_outcomes: tuple[str, ...] = (),
    checklist: tuple[str, ...] = (),
    rule_id: str = "",
) -> NewTask:
    """Check a task to create; every problem is reported at once."""
    problems: list[FieldProblem] = []
    title = title.strip()
    if not title:
        problems.append(FieldProblem("title", "must not be empty"))
    elif len(title) > MAX_TITLE:
        problems.append(FieldProblem("title", f"must be at most {MAX_TITLE} characters"))
    if len(description) > MAX_TEXT:
        problems.append(FieldProblem("description", f"must be at most {MAX_TEXT} characters"))
    for i, outcome in enumerate(outcomes):
        if not outcome.strip():
            problems.append(FieldProblem(f"outcomes[{i}]", "must not be empty"))
    if len(set(outcomes)) != len(outcomes):
        problems.append(FieldProblem("outcomes", "must not repeat an outcome"))
    problems += answer_problems(answer_fields, comment_outcomes, outcomes)
    for i, item in enumerate(checklist):
        if not item.strip() or len(item) > MAX_TITLE:
            problems.append(FieldProblem(f"checklist[{i}]", f"must be 1 to {MAX_TITLE} characters"))
    for name, value in (
        ("rule_id", rule_id),
        ("workflow_id", workflow_id),
        ("kind", kind),
        ("idempotency_key", idempotency_key),
    ):
        if len(value) > MAX_KEY:
            problems.append(FieldProblem(name, f"must be at most {MAX_KEY} characters"))
    if problems:
        raise ValidationFailed(problems)
    return NewTask(
        assignee_id=assignee_id,
        title=title,
        description=description,
        watcher_ids=tuple(dict.fromkeys(watcher_ids)),
        deadline=deadline,
        deal_id=deal_id,
        outcomes=outcomes,
        workflow_id=workflow_id or None,
        kind=kind,
        idempotency_key=idempotency_key or None,
        answer_fields=tuple(replace(f, name=f.name.strip()) for f in answer_fields),
        comment_outcomes=tuple(dict.fromkeys(comment_outcomes)),
        checklist=tuple(c.strip() for c in checklist),
        rule_id=rule_id or None,
    )


def check_transition(from_: Status, to: Status) -> None:
    """The one place that says which status changes exist."""
    match (from_, to):
        case (Status.OPEN, Status.COMPLETED) | (Status.OPEN, Status.CANCELLED):
            return
        case (Status.COMPLETED, _) | (Status.CANCELLED, _):
            raise Conflict(f"the task is already {from_.value}")
        case _:
            raise Conflict(f"a task cannot go from {from_.value} to {to.value}")


@dataclass(frozen=True)
class Change:
    """The task after a command, and whether the command changed it (False for a retry)."""

    task: Task
    changed: bool = True


def complete(
    task: Task,
    *,
    outcome: str,
    result: dict[str, Any] | None,
    by: int | None,
    at: datetime,
) -> Change:
    """Complete an open task with an outcome it accepts."""
    retry = (task.outcome or "") == outcome and task.completed_by == by
    if task.status is Status.COMPLETED and retry:
        return Change(task, changed=False)
    check_transition(task.status, Status.COMPLETED)
    if task.outcomes and outcome not in task.outcomes:
        allowed = ", ".join(task.outcomes)
        message = "is required" if not outcome else f"must be one of: {allowed}"
        raise ValidationFailed(FieldProblem("outcome", message))
    done = replace(
        task,
        status=Status.COMPLETED,
        outcome=outcome or None,
        result=result or None,
        completed_by=by,
        completed_at=at,
    )
    return Change(done)


def cancel(task: Task, *, reason: str, at: datetime) -> Change:
    """Cancel an open task (the process no longer waits on it)."""
    if task.status is Status.CANCELLED:
        return Change(task, changed=False)
    check_transition(task.status, Status.CANCELLED)
    return Change(
        replace(task, status=Status.CANCELLED, cancelled_at=at, cancel_reason=reason or None)
    )
