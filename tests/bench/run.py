"""`make bench`: start the stack as `make up` does (on free ports), run each benchmark with
its baseline measured in the same run, print the table and write tests/bench/results.json.

BENCH_ONLY=b1,b2,b3,b4,b5,b6,b7,b8,b9 picks benchmarks; BENCH_RUNS (default 5) sets the repetitions;
BENCH_SIZES (default 10000,100000,1000000) the deal counts of B4 and B8; BENCH_KEEP=1 keeps the
data directory (logs included) for a look afterwards.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from deploy.local.stack import Ports, Stack
from tests.bench import b1_move, report, resources
from tests.bench.context import Bench, open_bench
from tests.bench.httpload import LoadGenerator

Step = Callable[[Bench], Awaitable[None]]


def _steps() -> list[tuple[str, Step]]:
    from tests.bench import (
        b2_events,
        b3_process,
        b4_scale,
        b5_automation,
        b5_intake,
        b7_sse,
        b8_reports,
        b9_mixed,
    )

    return [
        ("b1", b1_move.run),
        ("b2", b2_events.run),
        ("b3", b3_process.run),
        ("b5", b5_intake.run),
        ("b6", b5_automation.run),
        ("b7", b7_sse.run),
        ("b9", b9_mixed.run),
        ("b4", b4_scale.run),  # then those adding up to a million deals
        ("b8", b8_reports.run),
    ]


async def _main(stack: Stack, load: LoadGenerator) -> Bench:
    only = {s.strip() for s in os.environ.get("BENCH_ONLY", "").lower().split(",") if s.strip()}
    bench = await open_bench(stack, load)
    idle = resources.snapshot(stack)
    for name, step in _steps():
        if only and name not in only:
            continue
        started = time.monotonic()
        print(f"[bench] {name} ...", flush=True)
        await step(bench)
        print(f"[bench] {name} done in {time.monotonic() - started:.0f} s", flush=True)
        if name == "b1":
            resources.report(bench.figures, idle, resources.snapshot(stack))
    await bench.db.close()
    await bench.admin.aclose()
    await bench.manager.aclose()
    return bench


# What a benchmark run needs of the gateway, unless set: the rate limit of expensive calls
# (reports, searches) off, since B8 asks for reports back to back, and tokens that outlive
# a run (B8 at a million deals takes longer than the default 15 minutes).
BENCH_GATEWAY = {"GATEWAY_EXPENSIVE_CALLS_BURST": "0", "GATEWAY_ACCESS_TOKEN_MINUTES": "240"}


def _clean_env() -> dict[str, str]:
    external = {"DATABASE_URL", "NATS_URL", "TEMPORAL_ADDRESS"}
    return BENCH_GATEWAY | {k: v for k, v in os.environ.items() if k not in external}


def main() -> int:
    data = Path(tempfile.mkdtemp(prefix="dealflow-bench-"))
    stack = Stack(
        data, ports=Ports.free(), environ=_clean_env(), headless=True, log_dir=data / "logs"
    )
    info = report.machine()
    print(f"[bench] starting the stack in {data}", flush=True)
    load = LoadGenerator()
    try:
        stack.start(timeout=180)
        bench = asyncio.run(_main(stack, load))
    finally:
        load.close()
        stack.stop()
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(data, ignore_errors=True)
    info["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(report.table(bench.figures))
    report.write(bench.figures, info)
    print(f"[bench] wrote {report.RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
