"""B7 live events: 200 server-sent event streams held open by one gateway process: its
resident memory and CPU per stream (idle, and while events fan out to every stream), and
the fan-out latency from a deal change to its event on the last of the streams; against
the same gateway process with no stream open."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import httpx
import psutil

from tests.bench import resources
from tests.bench.context import Bench, ok
from tests.bench.stats import Figure, Spread, ms, percentile

STREAMS = 200
IDLE_SECONDS = 10.0
EVENTS = 20
MEMORY_TARGET_KB = 100.0


class Streams:
    """STREAMS open streams of one user; each records when a deal's created event arrived."""

    def __init__(self, bench: Bench) -> None:
        limits = httpx.Limits(max_connections=STREAMS + 10, max_keepalive_connections=0)
        self._client = httpx.AsyncClient(
            base_url=bench.stack.gateway_url + "/api/v1",
            headers=bench.auth_headers,
            limits=limits,
            timeout=httpx.Timeout(30, read=None),
        )
        self.ready = 0
        self.arrived: dict[str, list[float]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def open(self) -> None:
        self._tasks = [asyncio.create_task(self._follow()) for _ in range(STREAMS)]
        deadline = time.monotonic() + 60
        while self.ready < STREAMS:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {self.ready} of {STREAMS} streams opened")
            await asyncio.sleep(0.05)

    async def _follow(self) -> None:
        async with self._client.stream("GET", "/events") as resp:
            resp.raise_for_status()
            event = ""
            async for line in resp.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                    if event == "ready":
                        self.ready += 1
                elif line.startswith("data:") and event == "deals.deal.created":
                    subject = json.loads(line[5:])["subject"]
                    self.arrived.setdefault(subject, []).append(time.perf_counter())

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await task
        await self._client.aclose()


async def _fan_out(bench: Bench, streams: Streams) -> list[float]:
    """Seconds from each deal's creation to its event on the last stream."""
    delays = []
    for i in range(EVENTS):
        started = time.perf_counter()
        body = {"pipeline_id": bench.pipeline["id"], "title": f"b7 {i}"}
        deal = ok(await bench.manager.post("/deals", json=body), 201)
        subject = f"deal/{deal['id']}"
        deadline = time.monotonic() + 30
        while len(streams.arrived.get(subject, [])) < STREAMS:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{subject}: {len(streams.arrived.get(subject, []))} streams")
            await asyncio.sleep(0.005)
        delays.append(max(streams.arrived[subject]) - started)
    return delays


def _one(value: float) -> Spread:
    return Spread(value, value, value, 1)


async def run(bench: Bench) -> None:
    gateway = resources.pids(bench.stack)["gateway"]
    proc = psutil.Process(gateway)
    idle_mb = proc.memory_info().rss / 2**20
    streams = Streams(bench)
    try:
        await streams.open()
        await asyncio.sleep(1.0)
        open_mb = proc.memory_info().rss / 2**20
        before = resources.cpu_seconds({"gateway": gateway})
        await asyncio.sleep(IDLE_SECONDS)
        idle_cpu = resources.cpu_delta(before, resources.cpu_seconds({"gateway": gateway}))
        before = resources.cpu_seconds({"gateway": gateway})
        delays = await _fan_out(bench, streams)
        busy_cpu = resources.cpu_delta(before, resources.cpu_seconds({"gateway": gateway}))
    finally:
        await streams.close()
    per_stream_kb = (open_mb - idle_mb) * 1024 / STREAMS
    bench.add(
        Figure(
            "B7",
            f"gateway memory per open stream ({STREAMS} streams)",
            "KB",
            _one(per_stream_kb),
            note=f"resident {idle_mb:.0f} MB with none open, {open_mb:.0f} MB with {STREAMS}",
            target=f"≤ {MEMORY_TARGET_KB:.0f} KB",
            met=per_stream_kb <= MEMORY_TARGET_KB,
        )
    )
    idle_ms = idle_cpu["gateway"] * 1000 / STREAMS / IDLE_SECONDS
    bench.add(Figure("B7", "gateway CPU per idle stream", "ms/s", _one(idle_ms)))
    per_delivery = busy_cpu["gateway"] * 1000 / (STREAMS * EVENTS)
    bench.add(
        Figure(
            "B7",
            "gateway CPU per event delivered to a stream",
            "ms",
            _one(per_delivery),
            note="includes creating the deals through the same gateway",
        )
    )
    for q in (50, 99):
        value = percentile(ms(delays), q)
        bench.add(
            Figure("B7", f"deal created → event on all {STREAMS} streams p{q}", "ms", _one(value))
        )
