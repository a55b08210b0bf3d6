"""B3's baselines: workflows that do nothing but what Temporal itself must do, run by an
in-process worker on their own task queue of the same Temporal server."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker


@workflow.defn(name="bench_noop")
class NoOp:
    @workflow.run
    async def run(self) -> None:
        return None


@workflow.defn(name="bench_echo")
class Echo:
    """Answers `echo` Updates until told to stop."""

    def __init__(self) -> None:
        self._stop = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._stop)
        await workflow.wait_condition(workflow.all_handlers_finished)

    @workflow.update
    async def echo(self, value: str) -> str:
        return value

    @echo.validator
    def _check(self, value: str) -> None:
        if not value:
            raise ValueError("empty")

    @workflow.signal
    def stop(self) -> None:
        self._stop = True


@workflow.defn(name="bench_sleep")
class Sleeper:
    """Sleeps `seconds` and returns how late the timer fired, in seconds, as the workflow
    sees it (the start time of the task that woke it minus the due time)."""

    @workflow.run
    async def run(self, seconds: float) -> float:
        due = workflow.now() + timedelta(seconds=seconds)
        await workflow.sleep(seconds)
        return (workflow.now() - due).total_seconds()


@activity.defn(name="bench_noop_activity")
async def noop_activity() -> None:
    return None


@workflow.defn(name="bench_steps")
class Steps:
    """Runs `n` no-op activities one after the other: the Temporal steps a process takes
    before its first task exists (read the deal, write the timeline, create the task)."""

    @workflow.run
    async def run(self, n: int) -> None:
        for _ in range(n):
            await workflow.execute_activity(
                noop_activity, start_to_close_timeout=timedelta(seconds=30)
            )


def bare_worker(client: Client) -> tuple[Worker, str]:
    task_queue = f"bench-bare-{uuid.uuid4().hex[:8]}"
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[NoOp, Echo, Sleeper, Steps],
        activities=[noop_activity],
    ), task_queue
