"""A person's step in a process: the task, who may answer it, and what the answer carries.

The process opens a task (an activity creates it in notifications, naming the workflow and
announcing what the answer needs), keeps it in `open` while it may be answered, and waits
for the answer. The answer arrives as the `complete_task` Update, which the process kit
declares once (workflows/kit/process.py): `validate` refuses it at once (nothing changes,
no activity runs), `complete` marks the task completed in notifications and records it.

A task's idempotency key is `<workflow id>/<step>`; a step opened again in the same run (the
next round of a loop) gets `<step>/2`, `<step>/3`, ... by itself, so a loop can never get
back its old, completed task.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.activities import calls
from workflows.activities.types import (
    AnswerField,
    CancelTaskInput,
    CompleteTaskInput,
    CreateTaskInput,
    TaskInfo,
)
from workflows.kit.contracts import ASSIGNEE, AnswerRefused, TaskAnswer

__all__ = ["AnswerField", "AnswerRecord", "HumanTasks", "OpenTask", "TaskSpec", "refuse"]

FILE_TYPES = ("file", "files")


@dataclass
class TaskSpec:
    step: str  # names the step within the run; see the module docstring for its key
    kind: str  # e.g. "sample_return.hand_over"
    assignee_id: str
    title: str
    outcomes: list[str]
    fields: list[AnswerField] = field(default_factory=list)
    description: str = ""
    deadline: datetime | None = None
    # The process waits on it: its assignee becomes the process's `Assignee`.
    awaited: bool = True
    # The process stage an outcome moves to (set when the answer is recorded).
    next_stage: dict[str, str] = field(default_factory=dict)
    # Others who may answer besides the assignee: the absent approver whose substitute got
    # the task may still answer it themselves.
    also_answered_by: list[str] = field(default_factory=list)
    # Who sees the task and hears of its outcome, but may not answer it.
    watcher_ids: list[str] = field(default_factory=list)
    # The outcomes whose answer needs `data.comment` (a rejection says why).
    comment_outcomes: list[str] = field(default_factory=list)


@dataclass
class OpenTask:
    task_id: str
    spec: TaskSpec


@dataclass
class AnswerRecord:
    task_id: str
    kind: str
    actor_id: str
    outcome: str
    data: dict[str, Any]
    answered_at: datetime


def refuse(message: str, kind: str) -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


def field_problem(spec: AnswerField, value: Any, outcome: str) -> str | None:
    """What is wrong with one answer field for that outcome, or None."""
    if value is None or value == "" or value == []:
        return f"'{spec.name}' is required" if spec.needed_for(outcome) else None
    problem = _type_problem(spec, value)
    if problem is None and spec.options and value not in spec.options:
        problem = f"must be one of: {', '.join(spec.options)}"
    return None if problem is None else f"'{spec.name}' {problem}"


def _type_problem(spec: AnswerField, value: Any) -> str | None:
    match spec.type:
        case "string" | "text":
            return None if isinstance(value, str) else "must be a string"
        case "date":
            if not isinstance(value, str):
                return "must be a string"
            try:
                date.fromisoformat(value)
            except ValueError:
                return f"must be an ISO date (YYYY-MM-DD), got {value!r}"
            return None
        case "number":
            if isinstance(value, bool):
                return "must be a number"
            try:
                Decimal(str(value))
            except InvalidOperation:
                return "must be a number"
            return None
        case "boolean":
            return None if isinstance(value, bool) else "must be true or false"
        case "file":
            return None if _is_id(value) else "must be the id of a file of the deal"
        case "files":
            ok = isinstance(value, list) and all(_is_id(v) for v in value)
            return None if ok else "must be a list of ids of files of the deal"
        case "list":
            ok = isinstance(value, list) and all(isinstance(v, str | int) for v in value)
            return None if ok else "must be a list of strings"
    return f"has an unknown type {spec.type!r}"  # pragma: no cover - specs are code


def _is_id(value: Any) -> bool:
    """Looks like a record id; whether it is a file of the deal, the deals service says."""
    return not isinstance(value, bool) and isinstance(value, str | int) and str(value).strip() != ""


def file_ids(spec: TaskSpec, data: dict[str, Any]) -> list[str]:
    """The file ids an answer names in the task's file fields (to check they are the deal's)."""
    found: list[str] = []
    for answer_field in spec.fields:
        value = data.get(answer_field.name)
        if answer_field.type == "file" and value not in (None, ""):
            found.append(str(value))
        elif answer_field.type == "files" and isinstance(value, list):
            found.extend(str(v) for v in value)
    return found


class HumanTasks:
    """The open tasks of one process run and the answers they received."""

    def __init__(self, deal_id: str) -> None:
        self._deal_id = deal_id
        self.open: dict[str, OpenTask] = {}
        self.answers: list[AnswerRecord] = []
        self._answered: dict[str, AnswerRecord] = {}
        self._steps: Counter[str] = Counter()
        self.created = 0  # tasks created in this run (the kit's steps run locally until one)

    def step_key(self, step: str) -> str:
        """The next key of `step` in this run: `step`, then `step/2`, `step/3`, ..."""
        self._steps[step] += 1
        n = self._steps[step]
        return step if n == 1 else f"{step}/{n}"

    async def start(self, spec: TaskSpec) -> OpenTask:
        """Create the task in notifications and accept answers to it."""
        workflow_id = workflow.info().workflow_id
        created = await calls.create_task(
            CreateTaskInput(
                idempotency_key=f"{workflow_id}/{self.step_key(spec.step)}",
                workflow_id=workflow_id,
                deal_id=self._deal_id,
                kind=spec.kind,
                assignee_id=spec.assignee_id,
                title=spec.title,
                outcomes=list(spec.outcomes),
                description=spec.description,
                deadline=spec.deadline,
                watcher_ids=list(spec.watcher_ids),
                answer_fields=list(spec.fields),
                comment_outcomes=list(spec.comment_outcomes),
            )
        )
        self.created += 1
        task = OpenTask(task_id=created.id, spec=spec)
        self.open[task.task_id] = task
        if spec.awaited:
            workflow.upsert_search_attributes([ASSIGNEE.value_set(spec.assignee_id)])
        return task

    def validate(self, answer: TaskAnswer) -> OpenTask:
        """Refuse an answer that may not be recorded; raises ApplicationError(AnswerRefused)."""
        task = self.open.get(answer.task_id)
        if task is None:
            raise refuse(
                f"task {answer.task_id} is not open in this process", AnswerRefused.TASK_NOT_OPEN
            )
        if not self.may_answer(task, answer.actor_id, answer.stands_in_for):
            raise refuse(
                f"task {answer.task_id} is assigned to user {task.spec.assignee_id}",
                AnswerRefused.WRONG_ACTOR,
            )
        if answer.outcome not in task.spec.outcomes:
            allowed = ", ".join(task.spec.outcomes)
            raise refuse(
                f"outcome {answer.outcome!r} is not one of: {allowed}",
                AnswerRefused.INVALID_OUTCOME,
            )
        problems = [
            problem
            for spec in task.spec.fields
            if (problem := field_problem(spec, answer.data.get(spec.name), answer.outcome))
            is not None
        ]
        comment = answer.data.get("comment")
        if answer.outcome in task.spec.comment_outcomes and not str(comment or "").strip():
            problems.append(f"'comment' is required to answer {answer.outcome!r}: say why")
        if problems:
            raise refuse("; ".join(problems), AnswerRefused.INVALID_DATA)
        return task

    def may_answer(self, task: OpenTask, actor_id: str, stands_in_for: str = "") -> bool:
        """The assignee answers, or the substitute of an absent assignee (the notifications
        service decides who stands in, the gateway passes it on as `stands_in_for`), or
        whoever the step names in `also_answered_by` (the absent approver whose substitute
        got it). Watchers never answer."""
        return (
            task.spec.assignee_id in (actor_id, stands_in_for)
            or actor_id in task.spec.also_answered_by
        )

    async def complete(self, answer: TaskAnswer) -> TaskInfo:
        """The Update handler's body: complete the task in notifications, record the answer;
        the completed task as notifications answered."""
        task = self.validate(answer)
        # Closed before the first await, so a concurrent second answer is refused.
        del self.open[task.task_id]
        try:
            done = await calls.complete_task(
                CompleteTaskInput(
                    task_id=task.task_id,
                    outcome=answer.outcome,
                    completed_by=answer.actor_id,
                    result=dict(answer.data),
                )
            )
        except ActivityError as exc:
            self.open[task.task_id] = task
            raise ApplicationError(
                f"task {task.task_id} could not be completed, try again: {exc.cause or exc}",
                type="TaskNotCompleted",
                non_retryable=True,
            ) from exc
        record = AnswerRecord(
            task_id=task.task_id,
            kind=task.spec.kind,
            actor_id=answer.actor_id,
            outcome=answer.outcome,
            data=dict(answer.data),
            answered_at=workflow.now(),
        )
        self.answers.append(record)
        self._answered[task.task_id] = record
        return done

    def answered(self, task: OpenTask) -> AnswerRecord | None:
        return self._answered.get(task.task_id)

    async def answer_of(
        self, task: OpenTask, timeout: timedelta | None = None
    ) -> AnswerRecord | None:
        """Wait for the task's answer; None when `timeout` passes first (a durable timer)."""
        try:
            await workflow.wait_condition(lambda: task.task_id in self._answered, timeout=timeout)
        except TimeoutError:
            return None
        return self._answered[task.task_id]

    async def cancel(self, task: OpenTask, reason: str) -> None:
        """Close a task nobody needs to answer any more (a no-op if already answered)."""
        if self.open.pop(task.task_id, None) is not None:
            await calls.cancel_task(CancelTaskInput(task_id=task.task_id, reason=reason))
