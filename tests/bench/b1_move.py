"""B1 stage move: `POST /api/v1/deals/{id}/move` at concurrency 1 and 32, against a bare
FastAPI + psycopg endpoint doing the same row update and history insert (bare_app.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from deploy.local.stack import free_port
from tests.bench import resources
from tests.bench.context import Bench, runs
from tests.bench.httpload import LoadResult, Request
from tests.bench.stats import Figure, Spread, ms, per_run

CONCURRENCY = (1, 32)
DEALS_PER_LANE = 4
REQUESTS_PER_LANE = {1: 200, 32: 50}


@contextmanager
def bare_app(bench: Bench) -> Iterator[tuple[str, int]]:
    """The baseline endpoint in its own process; yields its base URL and pid."""
    port = free_port()
    log = open(bench.stack.data_dir / "bare_app.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.bare_app", str(port), bench.conninfo],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
            time.sleep(0.1)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


async def _plans(
    bench: Bench, lanes: list[list[int]], per_lane: int, prefix: str
) -> list[list[Request]]:
    """Each lane moves its own deals back and forth between the two in-progress stages."""
    new, contract = bench.stage_ids[:2]
    all_ids = [d for lane in lanes for d in lane]
    cur = await bench.db.execute(
        "SELECT id, stage_id FROM deals.deals WHERE id = ANY(%s)", [all_ids]
    )
    stage = {int(i): int(s) for i, s in await cur.fetchall()}
    plans = []
    for lane in lanes:
        plan: list[Request] = []
        for k in range(per_lane):
            deal = lane[k % len(lane)]
            stage[deal] = contract if stage[deal] == new else new
            body = json.dumps({"stage_id": stage[deal]}).encode()
            plan.append(("POST", f"{prefix}/deals/{deal}/move", body))
        plans.append(plan)
    return plans


async def _load(
    bench: Bench, url: str, prefix: str, lanes: list[list[int]], per_lane: int
) -> LoadResult:
    plans = await _plans(bench, lanes, per_lane, prefix)
    headers = bench.auth_headers if prefix else {}
    result = await bench.load.run(url, plans, headers)
    if result.errors:
        raise RuntimeError(f"B1 errors {result.errors} at {url}: {result.first_error}")
    return result


async def run(bench: Bench) -> None:
    deal_ids = await bench.create_deals(max(CONCURRENCY) * DEALS_PER_LANE, "B1")
    stack_pids = resources.pids(bench.stack)
    with bare_app(bench) as (bare_url, bare_pid):
        targets = {
            "dealflow": Target(bench.stack.gateway_url, "/api/v1", stack_pids),
            "bare": Target(
                bare_url, "", {"bare_app": bare_pid, "postgres": stack_pids["postgres"]}
            ),
        }
        for c in CONCURRENCY:
            lanes = [deal_ids[i * DEALS_PER_LANE : (i + 1) * DEALS_PER_LANE] for i in range(c)]
            for t in targets.values():  # warm up both
                t.results.clear(), t.cpu.clear()
                await _load(bench, t.url, t.prefix, lanes, 10)
            for _ in range(runs()):  # interleaved, so that noise hits both alike
                for t in targets.values():
                    await t.measure(bench, lanes, REQUESTS_PER_LANE[c])
            ours, bare = targets["dealflow"], targets["bare"]
            _report(bench, c, ours.results, bare.results)
            if c == max(CONCURRENCY):
                _report_cpu(bench, c, ours, bare)


@dataclass
class Target:
    url: str
    prefix: str
    pids: dict[str, int]
    results: list[LoadResult] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per process

    async def measure(self, bench: Bench, lanes: list[list[int]], per_lane: int) -> None:
        before = resources.cpu_seconds(self.pids)
        self.results.append(await _load(bench, self.url, self.prefix, lanes, per_lane))
        used = resources.cpu_delta(before, resources.cpu_seconds(self.pids))
        for proc, seconds in used.items():
            self.cpu[proc] = self.cpu.get(proc, 0.0) + seconds

    def cpu_ms_per_request(self) -> dict[str, float]:
        done = max(1, sum(len(r.latencies) for r in self.results))
        return {proc: 1000 * seconds / done for proc, seconds in self.cpu.items()}


def _report(bench: Bench, c: int, ours: list[LoadResult], bare: list[LoadResult]) -> None:
    cpu = {"loadgen_cpu_share": max(r.cpu_share for r in ours + bare)}
    big = c == max(CONCURRENCY)
    rate = bench.add(
        Figure(
            "B1",
            f"move c={c} throughput",
            "req/s",
            Spread.of([r.rate for r in ours]),
            Spread.of([r.rate for r in bare]),
            "bare FastAPI+psycopg",
            better="higher",
            target="≥ 500 req/s and ≥ 0.5× bare" if big else "",
            extra=cpu,
        )
    )
    if big:
        rate.met = rate.value.median >= 500 and (rate.ratio or 0) >= 0.5
    for q in (50, 95, 99):
        fig = bench.add(
            Figure(
                "B1",
                f"move c={c} p{q}",
                "ms",
                per_run([ms(r.latencies) for r in ours], q),
                per_run([ms(r.latencies) for r in bare], q),
                "bare FastAPI+psycopg",
                target="≤ 50 ms" if big and q == 99 else "",
            )
        )
        if big and q == 99:
            fig.met = fig.value.median <= 50


def _report_cpu(bench: Bench, c: int, ours: Target, bare: Target) -> None:
    """CPU milliseconds each process spent per move: where the 2 cores go."""
    mine, theirs = ours.cpu_ms_per_request(), bare.cpu_ms_per_request()
    total, bare_total = sum(mine.values()), sum(theirs.values())
    bench.add(
        Figure(
            "B1",
            f"move c={c} CPU per move, all processes",
            "ms",
            Spread(total, total, total, 1),
            Spread(bare_total, bare_total, bare_total, 1),
            "bare app + PostgreSQL",
            note="2 cores / this = the throughput ceiling",
        )
    )
    for proc, used in sorted(mine.items(), key=lambda kv: -kv[1]):
        if used >= 0.05:
            bench.add(Figure("B1", f"  CPU per move: {proc}", "ms", Spread(used, used, used, 1)))
