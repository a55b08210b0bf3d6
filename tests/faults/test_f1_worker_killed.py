"""F1: the worker is killed (SIGKILL) at random moments while 200 processes run, and
started again. Every process completes; no task, timeline entry or event appears twice or
goes missing."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time

import pytest

from deploy.local.stack import Stack
from tests.faults.conftest import Org
from tests.faults.processes import (
    Answers,
    check_task_events,
    check_tasks_and_timeline,
    drive,
    start_processes,
)

RUNS = int(os.environ.get("DEALFLOW_F1_RUNS", "200"))
KILLS = 5


async def kill_worker_now_and_then(
    stack: Stack, stop: asyncio.Event, rng: random.Random, kills: list[float]
) -> None:
    """Up to KILLS crashes spread over the run (5-40 s apart), each followed by 0.2-2 s
    without a worker."""
    started = time.monotonic()
    while len(kills) < KILLS:
        try:
            await asyncio.wait_for(stop.wait(), timeout=rng.uniform(5, 40))
            return
        except TimeoutError:
            pass
        await asyncio.to_thread(stack.kill, "worker", signal.SIGKILL)
        kills.append(round(time.monotonic() - started, 1))
        await asyncio.sleep(rng.uniform(0.2, 2))
        await asyncio.to_thread(stack.start_again, "worker")


@pytest.mark.chaos
@pytest.mark.timeout(900)
async def test_f1_worker_killed_while_200_processes_run(stack: Stack, org: Org) -> None:
    seed = int(os.environ.get("DEALFLOW_FAULT_SEED", str(random.randrange(10**6))))
    rng = random.Random(seed)
    began = time.monotonic()
    deadline = began + 780
    stop, kills = asyncio.Event(), list[float]()
    killer = asyncio.create_task(kill_worker_now_and_then(stack, stop, rng, kills))

    runs = await start_processes(org, RUNS, deadline=deadline)
    await drive(stack, org, runs, deadline=deadline, answers=Answers())
    stop.set()
    await killer

    print(
        f"\nF1 (seed {seed}): {RUNS} processes completed in {time.monotonic() - began:.0f}s, "
        f"worker killed at {kills} s"
    )
    assert kills, "the worker was never killed"
    check_tasks_and_timeline(stack, runs)
    await check_task_events(stack, runs)
