"""B3 process: a sample-return process from its start until its first task is listed, the
completion of a task (REST → Temporal Update → workflow → activity → answer), and processes
per second sustained; against a no-op workflow's start-to-complete rate, a bare Update round
trip and a timer's lateness on the same Temporal server (bare_temporal.py)."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date, timedelta

from temporalio.client import Client

from tests.bench.bare_temporal import Echo, NoOp, Sleeper, Steps, bare_worker
from tests.bench.context import Bench, ok, runs
from tests.bench.stats import Figure, Spread, ms, per_run

SEQUENTIAL = 10  # processes started (and first tasks completed) one by one per run
SUSTAINED = 24  # processes started per run for the rate ...
CONCURRENCY = 8  # ... by this many concurrent clients
NOOPS = 96  # no-op workflows per run for the baseline rate
UPDATES = 30  # bare Update round trips per run
TIMER_SECONDS = 1.0
TIMERS = 10
STEPS_BEFORE_TASK = 3  # activities a sample return runs before its first task exists


async def _start_until_task(bench: Bench, deal_id: int, poll: float) -> tuple[float, int]:
    """Seconds from the start request until the first task is listed; the task's id."""
    return_by = (date.today() + timedelta(days=30)).isoformat()
    body = {"process": "sample_return", "params": {"return_by": return_by}}
    start = time.perf_counter()
    ok(await bench.manager.post(f"/deals/{deal_id}/processes", json=body), 201)
    params = {"assignee": "me", "deal_id": deal_id, "status": "open"}
    while True:
        items = ok(await bench.manager.get("/tasks", params=params))["items"]
        if items:
            return time.perf_counter() - start, int(items[0]["id"])
        await asyncio.sleep(poll)


async def _complete(bench: Bench, task_id: int) -> float:
    body = {"outcome": "handed", "data": {"handed_on": date.today().isoformat()}}
    start = time.perf_counter()
    ok(await bench.manager.post(f"/tasks/{task_id}/complete", json=body))
    return time.perf_counter() - start


async def _pool(count: int, concurrency: int, job: object) -> float:
    """Run `job(i)` for i < count with at most `concurrency` at once; the rate per second."""
    queue = list(range(count))

    async def lane() -> None:
        while queue:
            await job(queue.pop())  # type: ignore[operator]

    start = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return count / (time.perf_counter() - start)


class Samples:
    def __init__(self) -> None:
        self.to_task: list[list[float]] = []
        self.complete: list[list[float]] = []
        self.rate: list[float] = []
        self.noop_rate: list[float] = []
        self.update: list[list[float]] = []
        self.timer_late: list[list[float]] = []
        self.steps: list[list[float]] = []


async def _ours(bench: Bench, deals: list[int], s: Samples) -> None:
    sequential = [await _start_until_task(bench, deals.pop(), 0.005) for _ in range(SEQUENTIAL)]
    s.to_task.append(ms([t for t, _ in sequential]))
    s.complete.append(ms([await _complete(bench, task) for _, task in sequential]))
    batch = [deals.pop() for _ in range(SUSTAINED)]
    s.rate.append(
        await _pool(SUSTAINED, CONCURRENCY, lambda i: _start_until_task(bench, batch[i], 0.02))
    )


async def _bare(client: Client, task_queue: str, s: Samples) -> None:
    async def noop(_: int) -> None:
        await client.execute_workflow(NoOp.run, id=f"noop-{uuid.uuid4()}", task_queue=task_queue)

    s.noop_rate.append(await _pool(NOOPS, CONCURRENCY, noop))
    took = []
    for _ in range(SEQUENTIAL):
        start = time.perf_counter()
        await client.execute_workflow(
            Steps.run, STEPS_BEFORE_TASK, id=f"steps-{uuid.uuid4()}", task_queue=task_queue
        )
        took.append(time.perf_counter() - start)
    s.steps.append(ms(took))
    echo = await client.start_workflow(Echo.run, id=f"echo-{uuid.uuid4()}", task_queue=task_queue)
    took = []
    for i in range(UPDATES):
        start = time.perf_counter()
        await echo.execute_update(Echo.echo, str(i))
        took.append(time.perf_counter() - start)
    await echo.signal(Echo.stop)
    s.update.append(ms(took))
    sleepers = [
        client.execute_workflow(
            Sleeper.run, TIMER_SECONDS, id=f"sleep-{uuid.uuid4()}", task_queue=task_queue
        )
        for _ in range(TIMERS)
    ]
    s.timer_late.append(ms(list(await asyncio.gather(*sleepers))))


async def run(bench: Bench) -> None:
    deals = await bench.create_deals((runs() + 1) * (SEQUENTIAL + SUSTAINED), "B3")
    client = await Client.connect(bench.stack.temporal_address, namespace=bench.stack.namespace)
    worker, task_queue = bare_worker(client)
    s = Samples()
    async with worker:
        await _ours(bench, deals, s)  # warm-up
        await _bare(client, task_queue, s)
        s.__init__()  # type: ignore[misc]
        for _ in range(runs()):
            await _ours(bench, deals, s)
            await _bare(client, task_queue, s)
    _report(bench, s)


def _report(bench: Bench, s: Samples) -> None:
    update = "bare Temporal Update round trip"
    for q in (50, 99):
        bench.add(
            Figure(
                "B3",
                f"start → first task listed p{q}",
                "ms",
                per_run(s.to_task, q),
                per_run(s.steps, q),
                f"bare workflow of {STEPS_BEFORE_TASK} no-op activities start→complete",
            )
        )
    for q in (50, 99):
        fig = bench.add(
            Figure(
                "B3",
                f"task completion p{q}",
                "ms",
                per_run(s.complete, q),
                per_run(s.update, q),
                update,
                target="≤ 3× bare" if q == 99 else "",
            )
        )
        if q == 99:
            fig.met = (fig.ratio or 99) <= 3
    bench.add(
        Figure(
            "B3",
            f"processes/s sustained (c={CONCURRENCY})",
            "1/s",
            Spread.of(s.rate),
            Spread.of(s.noop_rate),
            "no-op workflow start→complete",
            better="higher",
        )
    )
    late = bench.add(
        Figure(
            "B3",
            f"timer lateness p99 ({TIMERS} × {TIMER_SECONDS:g} s)",
            "ms",
            per_run(s.timer_late, 99),
            target="≤ 1000 ms",
            note="bare worker on the same server; measured inside the workflow",
        )
    )
    late.met = late.value.median <= 1000
