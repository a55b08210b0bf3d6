"""Profile driver for B4's reads (not part of `make bench`): SIZE deals seeded as B4 seeds
them, then N list and N timeline GETs through the load generator (c=1): their p50, CPU per
request of each process, the hand-written SQL's p50.

`N=1500 SIZE=10000 SPY=1 OUT=/tmp/prof .venv/bin/python -m tests.bench.profile_reads`;
SPY=1 runs py-spy on the gateway and the deals service during each kind of read."""

from __future__ import annotations

import os
import statistics
from pathlib import Path
from typing import Any

from deploy.local.stack import Stack
from tests.bench import resources
from tests.bench.b4_scale import (
    DEAL_SQL,
    LIST_PAGE,
    LIST_SQL,
    TIMELINE_ENTRIES,
    TIMELINE_SQL,
    _sql,
)
from tests.bench.context import ok, open_bench
from tests.bench.httpload import LoadGenerator, Request
from tests.bench.profile_stack import cpu_table, run_on_stack, spy, stop
from tests.bench.seed import Seeder

N = int(os.environ.get("N", "1500"))
SIZE = int(os.environ.get("SIZE", "10000"))
OUT = Path(os.environ.get("OUT", "/tmp/dealflow-profile"))


async def main(stack: Stack, load: LoadGenerator) -> None:
    bench = await open_bench(stack, load)
    stages_b: list[dict[str, Any]] = [
        {"name": f"S{i}", "semantic": "in_progress"} for i in range(3)
    ]
    stages_b.append({"name": "Won", "semantic": "won"})
    second = ok(await bench.admin.post("/pipelines", json={"name": "B", "stages": stages_b}), 201)
    seeder = Seeder(bench.conninfo, manager_id=bench.manager_id, pipelines=[bench.pipeline, second])
    (deal_id,) = await bench.create_deals(1, "B4 timeline")
    await seeder.long_timeline(deal_id, TIMELINE_ENTRIES)
    await seeder.grow_to(SIZE)
    pipeline, user = int(bench.pipeline["id"]), bench.manager_id
    stages = [int(s["id"]) for s in bench.pipeline["stages"]]
    query = f"pipeline_id={pipeline}&responsible_id={user}&limit={LIST_PAGE}&stage_id="
    plans: dict[str, list[Request]] = {
        "list": [("GET", f"/api/v1/deals?{query}{stages[i % 4]}", None) for i in range(N)],
        "timeline": [("GET", f"/api/v1/deals/{deal_id}/timeline", None)] * N,
    }
    url, headers = stack.gateway_url, bench.auth_headers
    pids = resources.pids(stack)
    for name, plan in plans.items():
        await load.run(url, [plan[:200]], headers)  # warm-up
        spies = spy(pids, ("gateway", "deals"), OUT, name) if os.environ.get("SPY") == "1" else []
        before = resources.cpu_seconds(pids)
        result = await load.run(url, [plan], headers)
        after = resources.cpu_seconds(pids)
        stop(spies)
        p50 = statistics.median(result.latencies) * 1000
        print(f"{name}: p50 {p50:.2f} ms, errors {result.errors}, load {os.getloadavg()}")
        cpu_table(name, before, after, N)
    lists = await _sql(bench, [(LIST_SQL, [pipeline, stages[i % 4], user]) for i in range(300)])
    timelines = await _sql(
        bench,
        [[(DEAL_SQL, [deal_id]), (TIMELINE_SQL, [deal_id])] for _ in range(300)],  # type: ignore[misc]
    )
    print(
        f"SQL p50: list {statistics.median(lists) * 1000:.3f} ms,"
        f" timeline {statistics.median(timelines) * 1000:.3f} ms"
    )


if __name__ == "__main__":
    run_on_stack(main)
