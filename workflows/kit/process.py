"""The base of a process with people in it. A process declares itself with `@process`,
fills in its `run` (plain awaits on tasks, timers, watches and child processes) and, where
its answers need more than the kit checks, the `check_answer` / `before_answer` /
`after_answer` hooks. The kit owns the rest, once:

- the task-answer Update `complete_task` with its validator (the task is open, the actor
  may answer, the outcome and the data fit the task's declared fields and comment rule,
  files named are the deal's) and the `state` Query;
- a step's activities until the first task is created run as local activities (one
  workflow task from the start to the first task; `steps_run_locally`);
- `set_stage()` (always the `Stage` search attribute too), `timeline()`, `key()` (a step's
  idempotency key; a step repeated in a loop gets its round by itself), `finish()` (clears
  `Assignee`, waits for running handlers);
- deadline watches that the `deadline_moved` Signal (or a deal field change,
  `deal_fields_changed`) moves while they run;
- waits for an invoice's payment (`self.invoices`, fed by the `invoice_changed` Signal from
  finance's events: workflows/kit/invoices.py).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, ClassVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.activities import calls
from workflows.kit.deadline import DeadlineWatch
from workflows.kit.invoices import INVOICE_CHANGED_SIGNAL, InvoiceChange, InvoiceWaits
from workflows.kit.registry import definition_of
from workflows.kit.tasks import AnswerRecord, HumanTasks, OpenTask, file_ids, refuse

with workflow.unsafe.imports_passed_through():
    from workflows.activities import approval_calls as ac
    from workflows.activities.approval_types import CheckFilesInput
    from workflows.activities.types import AddTimelineEntryInput
    from workflows.kit import params as params_
    from workflows.kit.contracts import (
        ASSIGNEE,
        COMPLETE_TASK_UPDATE,
        STAGE,
        STATE_QUERY,
        AnswerRefused,
        DeadlineMove,
        ProcessInput,
        TaskAnswer,
        TaskAnswerResult,
    )

# Changes the kit makes in every process that some processes recorded before it did not
# make; such a process lists them in `kit_patches`, and its runs adopt them from the patch
# on (workflow.patched), so histories recorded before replay unchanged.
STAGE_ON_ANSWER = "kit-stage-attribute-on-answer"
FINISH_CLEARS_ASSIGNEE = "kit-finish-clears-assignee"
# Runs from this patch on tell the deal they ended (automation's `process_finished`).
FINISHED_ON_TIMELINE = "kit-process-finished-on-timeline"
# Runs from this patch on make their steps until their first task is created (reading the
# deal, the timeline entry, creating the task) local activities: one workflow task from the
# start to the first task instead of four workflow tasks and three activity tasks.
LOCAL_STEPS_TO_FIRST_TASK = "kit-local-steps-to-first-task"


@dataclass
class ProcessState:
    """What the `state` Query answers of every process (and `details` of its own)."""

    stage: str
    open_task_ids: list[str]
    answers: list[AnswerRecord] = field(default_factory=list)
    deadlines: dict[str, datetime | None] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


class Process:
    initial_stage: ClassVar[str] = "new"
    kit_patches: ClassVar[frozenset[str]] = frozenset()

    @workflow.init
    def __init__(self, inp: ProcessInput) -> None:
        self._begin(inp)

    def _begin(self, inp: Any) -> None:
        """What `__init__` does; a process with another input type (the approval chain)
        declares its own `@workflow.init __init__` and calls this."""
        self.input = inp
        self.tasks = HumanTasks(inp.deal_id)
        self.stage = self.initial_stage
        self.watches: dict[str, DeadlineWatch] = {}
        self._keys: Counter[str] = Counter()
        self._timeline_steps: Counter[str] = Counter()
        self._params: Any = None
        self._alongside: list[asyncio.Task[None]] = []
        self._finishing = False
        self.invoices = InvoiceWaits()  # what finance's events said of the deal's invoices
        self.setup()

    def setup(self) -> None:
        """Set the process's own attributes (the kit's `__init__` calls it)."""

    # ---- what a process reads and does ----
    @property
    def name(self) -> str:
        return definition_of(type(self)).name

    @property
    def params(self) -> Any:
        """The typed start params (checked once; a bad one fails the run, not retried)."""
        if self._params is None:
            definition = definition_of(type(self))
            try:
                self._params = params_.parse(definition.params, self.input.params)
            except ValueError as exc:
                raise ApplicationError(str(exc), type="InvalidParams", non_retryable=True) from exc
        return self._params

    def key(self, step: str) -> str:
        """The idempotency key of a step's activity: `<workflow id>/<step>`; the same step
        again in this run (a loop's next round) is `<step>/2`, `<step>/3`, ..."""
        return _next_key(self._keys, step)

    def steps_run_locally(self) -> bool:
        """Whether a step's activity runs as a local activity now (workflows/activities/
        retry.py asks): until the run's first task is created, in runs from the patch on."""
        return self.tasks.created == 0 and workflow.patched(LOCAL_STEPS_TO_FIRST_TASK)

    def set_stage(self, stage: str) -> None:
        self.stage = stage
        workflow.upsert_search_attributes([STAGE.value_set(stage)])

    async def timeline(self, step: str, text: str, *, kind: str = "process", **data: Any) -> None:
        """An entry on the deal's timeline, once per step of the run."""
        await calls.add_timeline_entry(
            AddTimelineEntryInput(
                idempotency_key=_next_key(self._timeline_steps, step),
                deal_id=self.input.deal_id,
                text=text,
                kind=kind,
                data={
                    "process": self.name,
                    "workflow_id": workflow.info().workflow_id,
                    "step": step,
                    **data,
                },
            )
        )

    async def answer(self, task: OpenTask, watch: DeadlineWatch | None = None) -> AnswerRecord:
        """Wait for the task's answer (firing `watch`'s reminders and actions meanwhile)."""
        if watch is not None:
            await watch.wait(lambda: self.tasks.answered(task) is not None)
        answer = await self.tasks.answer_of(task)
        assert answer is not None  # no timeout: only an answer ends the wait
        return answer

    def watch(self, watch: DeadlineWatch) -> DeadlineWatch:
        """Keep `watch` where `deadline_moved` and deal field changes find it."""
        self.watches[watch.name] = watch
        return watch

    def run_alongside(
        self, watch: DeadlineWatch, until: Callable[[], bool] = lambda: False
    ) -> DeadlineWatch:
        """Fire `watch`'s reminders and actions while the process goes on with its steps,
        until `until()` holds or the process finishes."""
        self.watch(watch)
        task = asyncio.create_task(watch.wait(lambda: self._finishing or until()))
        self._alongside.append(task)
        return watch

    async def finish(self, outcome: str = "") -> None:
        """Nobody is waited on any more: the deal's timeline says how the process ended (its
        `process_finished` event fires the deal's rules); return once every running handler
        has finished."""
        self._finishing = True
        if self._alongside:
            await asyncio.gather(*self._alongside)
        if self._adopts(FINISH_CLEARS_ASSIGNEE):
            workflow.upsert_search_attributes([ASSIGNEE.value_unset()])
        if self.input.deal_id and workflow.patched(FINISHED_ON_TIMELINE):
            ended = f": {outcome}" if outcome else ""
            await self.timeline(
                "finished", f"{self.name} finished{ended}", kind="process_finished",
                outcome=outcome or self.stage,
            )  # fmt: skip
        await workflow.wait_condition(workflow.all_handlers_finished)

    # ---- hooks a process may fill in ----
    def check_answer(self, task: OpenTask, answer: TaskAnswer) -> None:
        """Refuse (raise refuse(...)) an answer the kit's checks let through."""

    async def before_answer(self, task: OpenTask, answer: TaskAnswer) -> None:
        """Effects the answer needs before it is taken; raising refuse(...) refuses it."""

    async def after_answer(self, task: OpenTask, answer: TaskAnswer) -> None:
        """Effects of an answer once it is recorded (still inside the Update)."""

    def details(self) -> dict[str, Any]:
        """The process's own part of the `state` Query."""
        return {}

    def snapshot(self) -> Any:
        """What the `state` Query answers."""
        return ProcessState(
            stage=self.stage,
            open_task_ids=list(self.tasks.open),
            answers=list(self.tasks.answers),
            deadlines={name: w.due for name, w in self.watches.items()},
            details=self.details(),
        )

    # ---- the handlers, declared once for every process ----
    @workflow.update(name=COMPLETE_TASK_UPDATE)
    async def complete_task(self, answer: TaskAnswer) -> TaskAnswerResult:
        task = self._checked(answer)
        await self._check_files(task, answer)
        await self.before_answer(task, answer)
        done = await self.tasks.complete(answer)
        next_stage = task.spec.next_stage.get(answer.outcome)
        if next_stage is not None:
            if self._adopts(STAGE_ON_ANSWER):
                self.set_stage(next_stage)
            else:
                self.stage = next_stage
        await self.after_answer(task, answer)
        return TaskAnswerResult(
            task_id=task.task_id, outcome=answer.outcome, stage=self.stage, task=done.task
        )

    @complete_task.validator
    def validate_answer(self, answer: TaskAnswer) -> None:
        self._checked(answer)

    @workflow.query(name=STATE_QUERY)
    def state(self) -> Any:
        return self.snapshot()

    @workflow.signal(name="deadline_moved")
    def deadline_moved(self, move: DeadlineMove) -> None:
        watch = self.watches.get(move.name)
        if watch is not None:
            watch.move(move.due)

    @workflow.signal(name="deal_fields_changed")
    def deal_fields_changed(self, changes: dict[str, Any]) -> None:
        """A deal field changed: a watch bound to it moves to the new date."""
        for watch in self.watches.values():
            if watch.field and watch.field in changes:
                watch.move(due_of(changes[watch.field]))

    @workflow.signal(name=INVOICE_CHANGED_SIGNAL)
    def invoice_changed(self, change: InvoiceChange) -> None:
        """A payment was recorded on an invoice of the deal (finance's event)."""
        self.invoices.apply(change)

    # ---- the kit's own ----
    def _checked(self, answer: TaskAnswer) -> OpenTask:
        task = self.tasks.validate(answer)
        self.check_answer(task, answer)
        return task

    async def _check_files(self, task: OpenTask, answer: TaskAnswer) -> None:
        """Files an answer names must be files of the deal."""
        named = file_ids(task.spec, answer.data)
        if not named:
            return
        try:
            await ac.check_files(CheckFilesInput(self.input.deal_id, named))
        except ActivityError as exc:
            cause = exc.cause
            message = getattr(cause, "message", None) or str(cause or exc)
            fields = [f.name for f in task.spec.fields if f.type in ("file", "files")]
            raise refuse(f"{', '.join(fields)}: {message}", AnswerRefused.INVALID_DATA) from exc

    def _adopts(self, change: str) -> bool:
        return change not in self.kit_patches or workflow.patched(change)


def _next_key(seen: Counter[str], step: str) -> str:
    seen[step] += 1
    n = seen[step]
    return f"{workflow.info().workflow_id}/{step if n == 1 else f'{step}/{n}'}"


def due_of(value: Any) -> datetime | None:
    """A date or date-time field's value as a due time (a date: the start of that day, UTC)."""
    if not value:
        return None
    text = str(value)
    if "T" in text.upper():
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.combine(date.fromisoformat(text), time(), UTC)
