"""Tasks that join a process while it runs, and a task answered any number of times.

`JoinedTasks` is a set of tasks the process adds to at any moment (each product card's
production task) and waits on as a whole: `wait_all()` returns once every task added so
far is answered, and a task added later (the client orders more mid-project) is waited on
by the next `wait_all()`.

`RepeatingTask` is a person's standing task (add a product card): each answer is handed to
`on_answer`, then the task opens again (a new task, its step key `<step>/2`, `<step>/3`,
...), until the process `close()`s it. Closing takes the open task out of the answers the
process accepts before anything else, so an answer racing the close is refused, never lost.

    cards = RepeatingTask(self, spec_of=lambda n: TaskSpec(...), on_answer=self._card)
    cards.start()
    ...
    await cards.close("the project is handed over")
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from temporalio import workflow

from workflows.kit.tasks import AnswerRecord, OpenTask, TaskSpec

if TYPE_CHECKING:
    from workflows.kit.process import Process


class JoinedTasks:
    def __init__(self, process: Process) -> None:
        self._process = process
        self.tasks: list[OpenTask] = []

    async def add(self, spec: TaskSpec) -> OpenTask:
        task = await self._process.tasks.start(spec)
        self.tasks.append(task)
        return task

    def pending(self) -> list[OpenTask]:
        return [t for t in self.tasks if self._process.tasks.answered(t) is None]

    def all_done(self) -> bool:
        return not self.pending()

    async def wait_all(self) -> None:
        """Until every task added so far (and any added meanwhile) is answered."""
        await workflow.wait_condition(self.all_done)


class RepeatingTask:
    def __init__(
        self,
        process: Process,
        *,
        spec_of: Callable[[int], TaskSpec],
        on_answer: Callable[[AnswerRecord], Awaitable[None]],
    ) -> None:
        self._process = process
        self._spec_of = spec_of
        self._on_answer = on_answer
        self._closed = False
        self._loop: asyncio.Task[None] | None = None
        self.current: OpenTask | None = None
        self.answers: list[AnswerRecord] = []

    def start(self) -> None:
        self._loop = asyncio.create_task(self._run())

    async def close(self, reason: str) -> None:
        """No more answers: the open task is cancelled; returns once the last answer taken
        has been handled."""
        self._closed = True
        if self.current is not None:
            await self._process.tasks.cancel(self.current, reason)
        if self._loop is not None:
            await self._loop

    async def _run(self) -> None:
        tasks = self._process.tasks
        n = 0
        while not self._closed:
            n += 1
            task = self.current = await tasks.start(self._spec_of(n))
            if self._closed:  # closed while the task was being created
                await tasks.cancel(task, "closed")
                return
            await workflow.wait_condition(
                lambda: self._closed or tasks.answered(task) is not None  # noqa: B023
            )
            answer = tasks.answered(task)
            if answer is None:
                return
            self.answers.append(answer)
            await self._on_answer(answer)
