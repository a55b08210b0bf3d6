"""F4: a gRPC service is killed (SIGKILL) in the middle of requests. The gateway answers
503 problem+json with Retry-After, never a 500; a process whose activity calls the dead
service retries and completes once the service is back."""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import pytest

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually
from tests.faults.conftest import Org, key
from tests.faults.processes import (
    Answers,
    check_task_events,
    check_tasks_and_timeline,
    drive,
    start_processes,
)


async def traffic(org: Org, stop: asyncio.Event, seen: list[httpx.Response | str]) -> None:
    i = 0
    while not stop.is_set():
        try:
            if i % 2:
                resp = await org.manager.get("/deals", params={"pipeline_id": org.pipeline_id})
            else:
                resp = await org.manager.post(
                    "/deals",
                    json={"pipeline_id": org.pipeline_id, "title": f"F4 {i}"},
                    headers=key(),
                )
            seen.append(resp)
        except httpx.TransportError as exc:
            seen.append(type(exc).__name__)
        i += 1


@pytest.mark.timeout(240)
async def test_f4_deals_killed_mid_request_answers_503(stack: Stack, org: Org) -> None:
    stop, seen = asyncio.Event(), list[httpx.Response | str]()
    clients = [asyncio.create_task(traffic(org, stop, seen)) for _ in range(6)]
    await eventually(lambda: _answered(seen, 200, 20), what="traffic before the kill")

    await asyncio.to_thread(stack.kill, "deals", signal.SIGKILL)
    killed_at = len(seen)
    await eventually(lambda: _answered(seen[killed_at:], 503, 10), what="503s while deals is down")
    await asyncio.to_thread(stack.start_again, "deals")
    back_at = len(seen)
    await eventually(
        lambda: _answered(seen[back_at:], 201, 5), timeout=60, what="deals answering again"
    )
    stop.set()
    await asyncio.gather(*clients)

    statuses = [s if isinstance(s, str) else s.status_code for s in seen]
    print(f"\nF4 deals: {len(seen)} requests, {statuses.count(503)} answered 503")
    assert set(statuses) <= {200, 201, 503}, sorted(set(map(str, statuses)))
    for resp in seen:
        assert not isinstance(resp, str)
        if resp.status_code == 503:
            assert resp.headers["content-type"] == "application/problem+json"
            assert int(resp.headers["retry-after"]) > 0


@pytest.mark.timeout(240)
async def test_f4_process_completes_after_notifications_comes_back(stack: Stack, org: Org) -> None:
    deadline = time.monotonic() + 180
    runs = await start_processes(org, 3, deadline=deadline)
    await asyncio.to_thread(stack.kill, "notifications", signal.SIGKILL)
    down = await org.manager.get("/tasks", params={"assignee": "me"})
    assert down.status_code == 503 and "retry-after" in down.headers, down.text
    await asyncio.sleep(5)  # the outage itself: activities fail and are retried meanwhile
    await asyncio.to_thread(stack.start_again, "notifications")

    await drive(stack, org, runs, deadline=deadline, answers=Answers())

    check_tasks_and_timeline(stack, runs)
    await check_task_events(stack, runs)


async def _answered(seen: list[httpx.Response | str], status: int, at_least: int) -> bool:
    return sum(not isinstance(s, str) and s.status_code == status for s in seen) >= at_least
