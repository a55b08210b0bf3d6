"""F5: the gateway restarts (SIGKILL, then SIGTERM) while people complete tasks. A
completion answered 2xx took effect (the task is completed and the process moved on); one
answered with an error did not (the task is still open in notifications and in the
process); one that got no answer is retried with its Idempotency-Key until it gets one."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually
from tests.faults.conftest import Org
from tests.faults.processes import (
    Answers,
    answer,
    check_task_events,
    check_tasks_and_timeline,
    drive,
    open_tasks,
    sql,
    start_processes,
)
from workflows.kit.contracts import STATE_QUERY

RUNS = 20


async def open_of_kind(
    stack: Stack, temporal: Client, org: Org, runs: dict[int, str], kind: str
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    async def probe() -> list[dict[str, Any]] | None:
        found[:] = [t for t in await open_tasks(org.manager, set(runs)) if t["kind"] == kind]
        return found if len(found) == len(runs) else None

    try:
        return await eventually(probe, timeout=60, what=f"{len(runs)} open {kind} tasks")
    except AssertionError:
        for deal_id in set(runs) - {int(t["deal_id"]) for t in found}:
            rows = sql(
                stack,
                "SELECT id, kind, status FROM notifications.tasks WHERE deal_id = %s",
                deal_id,
            )
            handle = temporal.get_workflow_handle(runs[deal_id])
            state = await handle.query(STATE_QUERY)
            history = [e.event_type for e in (await handle.fetch_history()).events][-8:]
            print(f"deal {deal_id}: tasks {rows}; state {state}; last events {history}")
        raise


async def answer_through_a_restart(
    stack: Stack, org: Org, tasks: list[dict[str, Any]], answers: Answers, sig: int
) -> float:
    """Answer every task once, a few at a time, restarting the gateway with `sig` after
    the first answers; returns how long the gateway took to answer again."""
    sem = asyncio.Semaphore(3)

    async def one(task: dict[str, Any]) -> None:
        async with sem:
            await answer(org.manager, task, answers)

    attempts = [asyncio.create_task(one(t)) for t in tasks]
    await eventually(lambda: _some(answers, 3), what="the first answers")
    await asyncio.to_thread(stack.kill, "gateway", sig)
    down_at = time.monotonic()
    await asyncio.to_thread(stack.start_again, "gateway")
    await asyncio.gather(*attempts)
    await eventually(lambda: _ready(stack), timeout=60, what="the gateway ready again")
    return time.monotonic() - down_at


async def check_definite_answers(
    stack: Stack,
    temporal: Client,
    client: httpx.AsyncClient,
    runs: dict[int, str],
    tasks: list[dict[str, Any]],
    answers: Answers,
) -> dict[str, int]:
    """Retry the unknown outcomes (same key) until definite, then check each definite
    answer against the task in notifications and in its process; answer refused ones
    again. Returns the first definite answer of each task."""
    by_id = {str(t["id"]): t for t in tasks}
    deadline = time.monotonic() + 90
    while unknown := [i for i in by_id if i in answers.keys]:
        assert time.monotonic() < deadline, f"no definite answer for tasks {unknown}"
        await asyncio.gather(*(answer(client, by_id[i], answers) for i in unknown))
    final: dict[str, int] = {}
    first: dict[str, int] = {}
    for task_id, task in by_id.items():
        last = answers.statuses[task_id][-1]
        assert isinstance(last, int)
        final[task_id] = first[task_id] = last
        status = sql(stack, "SELECT status FROM notifications.tasks WHERE id = %s", int(task_id))
        state = await temporal.get_workflow_handle(runs[int(task["deal_id"])]).query(STATE_QUERY)
        still_open = task_id in state["open_task_ids"]
        if 200 <= last < 300:
            assert status == [("completed",)] and not still_open, (task_id, status, state)
        else:
            assert status == [("open",)] and still_open, (task_id, last, status, state)
    # A refused answer changed nothing, so answering again (a new attempt, a new key) works.
    while refused := [i for i, status in final.items() if not 200 <= status < 300]:
        assert time.monotonic() < deadline, f"tasks {refused} could not be answered again"
        await asyncio.sleep(0.5)
        await asyncio.gather(*(answer(client, by_id[i], answers) for i in refused))
        for i in refused:
            last = answers.statuses[i][-1]
            if isinstance(last, int) and i not in answers.keys:
                final[i] = last
    return first


@pytest.mark.timeout(300)
async def test_f5_gateway_restarted_while_tasks_are_completed(stack: Stack, org: Org) -> None:
    deadline = time.monotonic() + 240
    runs = await start_processes(org, RUNS, deadline=deadline)
    temporal = await Client.connect(stack.temporal_address, namespace=stack.namespace)

    report = []
    for kind, sig in (
        ("sample_return.hand_over", signal.SIGKILL),
        ("sample_return.control", signal.SIGTERM),
    ):
        tasks = await open_of_kind(stack, temporal, org, runs, kind)
        answers = Answers()
        took = await answer_through_a_restart(stack, org, tasks, answers, sig)
        cut = sum(isinstance(s, str) for ss in answers.statuses.values() for s in ss)
        final = await check_definite_answers(stack, temporal, org.manager, runs, tasks, answers)
        report.append(
            f"{signal.Signals(sig).name}: back in {took:.1f}s, {cut} answers cut, "
            f"first definite answers {dict(Counter(final.values()))}"
        )
    print("\nF5: " + "; ".join(report))

    await drive(stack, org, runs, deadline=deadline, answers=Answers())
    check_tasks_and_timeline(stack, runs)
    await check_task_events(stack, runs)


async def _some(answers: Answers, n: int) -> bool:
    return sum(len(s) for s in answers.statuses.values()) >= n


async def _ready(stack: Stack) -> bool:
    try:
        async with httpx.AsyncClient() as http:
            return (await http.get(stack.gateway_url + "/readyz")).status_code == 200
    except httpx.HTTPError:
        return False
