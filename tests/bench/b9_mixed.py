"""B9 mixed load (issue 19's "B5"): the whole SM-2 sample return, by USERS concurrent
simulated managers for SECONDS, mixed with the reads people make while they wait.

Each simulated manager, in a loop until the time is up: creates a deal, starts a sample
return on it, and answers its four tasks in turn (hand over, control, then the head's
confirmation, then send back); while a task is not there yet it polls `GET /tasks` every
POLL seconds and, at each poll, also reads its deal list and the deal's timeline. One head
of department (all the managers' head) confirms. Reported: processes completed per minute,
every REST call's p99, the error rate (any status but the one the call expects: the flow
sends no bad input, so every 4xx or 5xx counts), each process's memory growth (RSS, the
PostgreSQL tree by PSS) and its CPU time per completed process over the run.

BENCH_B9_SECONDS (default 60) and BENCH_B9_USERS (default 20) shorten it for a smoke check.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from tests.bench import resources
from tests.bench.context import PASSWORD, Bench, login, ok
from tests.bench.stats import Figure, Spread, ms, percentile

POLL = 0.25
TODAY = date.today().isoformat()
RETURN_BY = (date.today() + timedelta(days=30)).isoformat()  # no overdue escalation


def seconds() -> float:
    return float(os.environ.get("BENCH_B9_SECONDS", "60"))


def users() -> int:
    return int(os.environ.get("BENCH_B9_USERS", "20"))


@dataclass(frozen=True)
class Step:
    kind: str
    outcome: str
    data: dict[str, str]
    by_head: bool = False


STEPS = (
    Step("sample_return.hand_over", "handed", {"handed_on": TODAY}),
    Step("sample_return.control", "returned", {}),
    Step("sample_return.confirm", "confirmed", {}, by_head=True),
    Step("sample_return.send_back", "sent", {"sent_on": TODAY, "tracking": "B9"}),
)


class TimeUp(Exception):
    pass


@dataclass
class Calls:
    """Every REST call's latency by route, and the calls answered otherwise than expected."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    first_errors: list[str] = field(default_factory=list)
    completed: int = 0

    async def __call__(
        self, route: str, request: Awaitable[httpx.Response], expect: int = 200
    ) -> httpx.Response:
        start = time.perf_counter()
        resp = await request
        self.latencies[route].append(time.perf_counter() - start)
        if resp.status_code != expect:
            self.errors[route] += 1
            if len(self.first_errors) < 5:
                self.first_errors.append(f"{route}: {resp.status_code} {resp.text[:200]}")
        return resp

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.latencies.values())


async def _wait_task(
    calls: Calls,
    who: httpx.AsyncClient,
    me: httpx.AsyncClient,
    deal: dict[str, Any],
    step: Step,
    pipeline_id: int,
    me_id: int,
    deadline: float,
) -> int:
    """The step's open task, polling (with the manager's reads beside each poll)."""
    params = {"assignee": "me", "deal_id": deal["id"], "status": "open"}
    board = {"pipeline_id": pipeline_id, "responsible_id": me_id}
    while time.monotonic() < deadline:
        resp = await calls("GET /tasks", who.get("/tasks", params=params))
        items = resp.json().get("items", []) if resp.status_code == 200 else []
        found = next((t for t in items if t["kind"] == step.kind), None)
        if found is not None:
            return int(found["id"])
        await calls("GET /deals", me.get("/deals", params=board))
        await calls("GET /deals/{id}/timeline", me.get(f"/deals/{deal['id']}/timeline"))
        await asyncio.sleep(POLL)
    raise TimeUp


async def _manager(
    bench: Bench,
    calls: Calls,
    me: httpx.AsyncClient,
    me_id: int,
    head: httpx.AsyncClient,
    deadline: float,
) -> None:
    pipeline_id = int(bench.pipeline["id"])
    n = 0
    while time.monotonic() < deadline:
        n += 1
        body = {"pipeline_id": pipeline_id, "title": f"B9 {me_id}-{n}"}
        resp = await calls("POST /deals", me.post("/deals", json=body), 201)
        if resp.status_code != 201:
            continue
        deal = resp.json()
        start = {"process": "sample_return", "params": {"return_by": RETURN_BY}}
        route = "POST /deals/{id}/processes"
        if (
            await calls(route, me.post(f"/deals/{deal['id']}/processes", json=start), 201)
        ).status_code != 201:
            continue
        try:
            for step in STEPS:
                who = head if step.by_head else me
                task = await _wait_task(calls, who, me, deal, step, pipeline_id, me_id, deadline)
                answer = {"outcome": step.outcome, "data": step.data}
                await calls(
                    "POST /tasks/{id}/complete", who.post(f"/tasks/{task}/complete", json=answer)
                )
        except TimeUp:
            return
        calls.completed += 1


async def _user(
    bench: Bench, role: str, department_id: int | None
) -> tuple[httpx.AsyncClient, int]:
    email = f"b9-{role}-{uuid.uuid4().hex[:8]}@example.com"
    body: dict[str, Any] = {
        "email": email,
        "name": f"B9 {role}",
        "password": PASSWORD,
        "roles": [role],
    }
    if department_id is not None:
        body["department_id"] = department_id
    user = ok(await bench.admin.post("/users", json=body), 201)
    return await login(bench.stack.gateway_url, email, PASSWORD), int(user["id"])


async def run(bench: Bench) -> None:
    head, head_id = await _user(bench, "head_of_sales", None)
    dept = {"name": f"B9 {uuid.uuid4().hex[:6]}", "head_id": head_id}
    department_id = int(ok(await bench.admin.post("/departments", json=dept), 201)["id"])
    managers = [await _user(bench, "manager", department_id) for _ in range(users())]
    before = resources.snapshot(bench.stack)
    cpu_before = resources.cpu_seconds(resources.pids(bench.stack))
    calls = Calls()
    started = time.monotonic()
    deadline = started + seconds()
    await asyncio.gather(*(_manager(bench, calls, c, i, head, deadline) for c, i in managers))
    wall = time.monotonic() - started
    cpu = resources.cpu_delta(cpu_before, resources.cpu_seconds(resources.pids(bench.stack)))
    after = resources.snapshot(bench.stack)
    for client, _ in [*managers, (head, 0)]:
        await client.aclose()
    _report(bench, calls, wall, before, after)
    _report_cpu(bench, calls, cpu)


def _report(
    bench: Bench, calls: Calls, wall: float, before: dict[str, float], after: dict[str, float]
) -> None:
    label = f"{users()} users, {seconds():g} s"
    bench.add(
        Figure(
            "B9",
            f"SM-2 processes completed per minute ({label})",
            "1/min",
            Spread.of([calls.completed * 60 / wall]),
            better="higher",
            extra={"completed": calls.completed, "wall_seconds": wall, "calls": calls.total},
        )
    )
    for route, took in sorted(calls.latencies.items()):
        bench.add(
            Figure(
                "B9",
                f"{route} p99 ({len(took)} calls)",
                "ms",
                Spread.of([percentile(ms(took), 99)]),
                extra={"p50_ms": percentile(ms(took), 50)},
            )
        )
    errors = sum(calls.errors.values())
    rate = errors / calls.total if calls.total else 0.0
    bench.add(
        Figure(
            "B9",
            "error rate (any unexpected status)",
            "%",
            Spread.of([100 * rate]),
            target="0 %",
            met=errors == 0,
            note="; ".join(calls.first_errors),
            extra={"by_route": dict(calls.errors)},
        )
    )
    for name, mb in after.items():
        was = before.get(name)
        if was is None:
            continue
        bench.add(
            Figure(
                "B9",
                f"{name} memory growth over the run",
                "MB",
                Spread.of([mb - was]),
                extra={"before_mb": was, "after_mb": mb},
            )
        )
    print(
        f"[bench] b9: {calls.completed} processes, {calls.total} calls, {errors} errors", flush=True
    )


def _report_cpu(bench: Bench, calls: Calls, cpu: dict[str, float]) -> None:
    """CPU seconds of each process over the run, per process completed (with the reads and
    polls that came with it): the figure that holds on a loaded machine."""
    if not calls.completed:
        return
    total = sum(cpu.values())
    for name, spent in [("all processes", total), *sorted(cpu.items(), key=lambda i: -i[1])]:
        bench.add(
            Figure(
                "B9",
                f"CPU per completed SM-2 process: {name}",
                "ms",
                Spread.of([1000 * spent / calls.completed]),
            )
        )
