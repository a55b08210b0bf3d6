"""A person's step in a process, shared by every workflow.

The workflow opens a task (an activity creates it in notifications, naming the workflow),
keeps it in `open` while it may be answered, and waits for the answer with an optional
deadline. The answer arrives as the `complete_task` Update: `validate` refuses it at once
(nothing changes, no activity runs) and `complete` marks the task completed in notifications
and records the answer. A workflow wires them in three lines:

    @workflow.update(name=COMPLETE_TASK_UPDATE)
    async def complete_task(self, answer: TaskAnswer) -> TaskAnswerResult: ...  # tasks.complete
    @complete_task.validator
    def validate_answer(self, answer: TaskAnswer) -> None: self.tasks.validate(answer)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.activities import calls
from workflows.activities.types import CancelTaskInput, CompleteTaskInput, CreateTaskInput
from workflows.contracts import ASSIGNEE, AnswerRefused, TaskAnswer


@dataclass
class AnswerField:
    """A field of the answer's data: `date` is an ISO date (YYYY-MM-DD)."""

    name: str
    type: Literal["string", "date"] = "string"
    required: bool = True


@dataclass
class TaskSpec:
    step: str  # unique within the run; the task's idempotency key is `<workflow id>/<step>`
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


def field_problem(spec: AnswerField, value: Any) -> str | None:
    """What is wrong with one answer field, or None."""
    if value is None or value == "":
        return f"'{spec.name}' is required" if spec.required else None
    if not isinstance(value, str):
        return f"'{spec.name}' must be a string"
    if spec.type == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return f"'{spec.name}' must be an ISO date (YYYY-MM-DD), got {value!r}"
    return None


class HumanTasks:
    """The open tasks of one process run and the answers they received."""

    def __init__(self, deal_id: str) -> None:
        self._deal_id = deal_id
        self.open: dict[str, OpenTask] = {}
        self.answers: list[AnswerRecord] = []
        self._answered: dict[str, AnswerRecord] = {}

    async def start(self, spec: TaskSpec) -> OpenTask:
        """Create the task in notifications and accept answers to it."""
        workflow_id = workflow.info().workflow_id
        created = await calls.create_task(
            CreateTaskInput(
                idempotency_key=f"{workflow_id}/{spec.step}",
                workflow_id=workflow_id,
                deal_id=self._deal_id,
                kind=spec.kind,
                assignee_id=spec.assignee_id,
                title=spec.title,
                outcomes=list(spec.outcomes),
                description=spec.description,
                deadline=spec.deadline,
            )
        )
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
            if (problem := field_problem(spec, answer.data.get(spec.name))) is not None
        ]
        if problems:
            raise refuse("; ".join(problems), AnswerRefused.INVALID_DATA)
        return task

    def may_answer(self, task: OpenTask, actor_id: str, stands_in_for: str = "") -> bool:
        """The assignee answers, or the substitute of an absent assignee (the gateway checks
        the substitution with the org structure before it sends `stands_in_for`), or whoever
        the step names in `also_answered_by` (the absent approver whose substitute got it)."""
        return (
            task.spec.assignee_id in (actor_id, stands_in_for)
            or actor_id in task.spec.also_answered_by
        )

    async def complete(self, answer: TaskAnswer) -> OpenTask:
        """The Update handler's body: complete the task in notifications, record the answer."""
        task = self.validate(answer)
        # Closed before the first await, so a concurrent second answer is refused.
        del self.open[task.task_id]
        try:
            await calls.complete_task(
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
        return task

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
