"""B4 data scale: the deals list with filters (pipeline + stage + responsible) and one deal's
timeline at 10k, 100k and 1M deals, against the equivalent hand-written SQL on the same
database. The gateway applies no row visibility yet; the list is filtered by the caller as
responsible, which is the condition a manager's visibility would add."""

from __future__ import annotations

import math
import os
import time
from typing import Any

from tests.bench.context import Bench, ok, runs
from tests.bench.httpload import Request
from tests.bench.seed import Seeder
from tests.bench.stats import Figure, Spread, ms, per_run

REQUESTS = 100  # per run and query
TIMELINE_ENTRIES = 200
DEFAULT_SIZES = "10000,100000,1000000"

# A page that every size fills: the seeder gives the caller 25 deals a stage at 10k (2
# pipelines x 4 stages x 50 responsibles), so the growth compares pages of one length
# (with 50, the page held 25 deals at 10k and 50 from 100k on: the growth measured the
# cost of a row, tests/bench/README.md, fifth round).
LIST_PAGE = 20
LIST_SQL = f"""
SELECT d.*, s.semantic FROM deals.deals d JOIN deals.stages s ON s.id = d.stage_id
 WHERE d.pipeline_id = %s AND d.stage_id = %s AND d.responsible_id = %s
 ORDER BY d.id DESC LIMIT {LIST_PAGE + 1}
"""
DEAL_SQL = (
    "SELECT d.*, s.semantic FROM deals.deals d JOIN deals.stages s ON s.id = d.stage_id"
    " WHERE d.id = %s"
)
TIMELINE_SQL = "SELECT * FROM deals.timeline WHERE deal_id = %s ORDER BY id DESC LIMIT 51"


def sizes() -> list[int]:
    raw = os.environ.get("BENCH_SIZES", DEFAULT_SIZES)
    return sorted(int(s) for s in raw.split(",") if s.strip())


async def _sql(bench: Bench, queries: list[tuple[str, list[Any]]]) -> list[float]:
    took = []
    for sql_list in queries:
        start = time.perf_counter()
        for sql, args in [sql_list] if isinstance(sql_list[0], str) else sql_list:
            await (await bench.db.execute(sql, args)).fetchall()
        took.append(time.perf_counter() - start)
    return took


async def _measure(bench: Bench, pipeline: dict[str, Any], deal_id: int) -> dict[str, list[float]]:
    p, user = int(pipeline["id"]), bench.manager_id
    stages = [int(s["id"]) for s in pipeline["stages"]]
    list_plan: list[Request] = [
        (
            "GET",
            f"/api/v1/deals?pipeline_id={p}&stage_id={stages[i % 4]}&responsible_id={user}"
            f"&limit={LIST_PAGE}",
            None,
        )
        for i in range(REQUESTS)
    ]
    timeline_plan: list[Request] = [("GET", f"/api/v1/deals/{deal_id}/timeline", None)] * REQUESTS
    url, headers = bench.stack.gateway_url, bench.auth_headers
    found = {}
    for name, plan in (("list", list_plan), ("timeline", timeline_plan)):
        result = await bench.load.run(url, [plan], headers)
        if result.errors:
            raise RuntimeError(f"B4 {name}: {result.errors} {result.first_error}")
        found[name] = result.latencies
    found["list_sql"] = await _sql(
        bench, [(LIST_SQL, [p, stages[i % 4], user]) for i in range(REQUESTS)]
    )
    found["timeline_sql"] = await _sql(
        bench,
        [[(DEAL_SQL, [deal_id]), (TIMELINE_SQL, [deal_id])] for _ in range(REQUESTS)],  # type: ignore[list-item]
    )
    return found


async def run(bench: Bench) -> None:
    other = {
        "name": "Scale B",
        "stages": [{"name": f"S{i}", "semantic": "in_progress"} for i in range(3)],
    }
    other["stages"].append({"name": "Won", "semantic": "won"})
    second = ok(await bench.admin.post("/pipelines", json=other), 201)
    pipelines = [bench.pipeline, second]
    seeder = Seeder(bench.conninfo, manager_id=bench.manager_id, pipelines=pipelines)
    (deal_id,) = await bench.create_deals(1, "B4 timeline")
    await seeder.long_timeline(deal_id, TIMELINE_ENTRIES)
    p99_at: dict[str, dict[int, float]] = {
        "list": {},
        "list_sql": {},
        "timeline": {},
        "timeline_sql": {},
    }
    for size in sizes():
        started = time.monotonic()
        await seeder.grow_to(size)
        print(f"[bench] b4: seeded {size} deals in {time.monotonic() - started:.0f} s", flush=True)
        await _measure(bench, bench.pipeline, deal_id)  # warm-up
        samples: dict[str, list[list[float]]] = {k: [] for k in p99_at}
        for _ in range(runs()):
            for key, took in (await _measure(bench, bench.pipeline, deal_id)).items():
                samples[key].append(ms(took))
        last = size == max(sizes())
        for what in ("list", "timeline"):
            for q in (50, 99):
                fig = bench.add(
                    Figure(
                        "B4",
                        f"{what} @ {size:,} deals p{q}",
                        "ms",
                        per_run(samples[what], q),
                        per_run(samples[f"{what}_sql"], q),
                        "hand-written SQL (psycopg)",
                        target="≤ 50 ms" if last and q == 99 else "",
                    )
                )
                if last and q == 99:
                    fig.met = fig.value.median <= 50
            p99_at[what][size] = per_run(samples[what], 99).median
            p99_at[f"{what}_sql"][size] = per_run(samples[f"{what}_sql"], 99).median
    _growth(bench, p99_at)


def _growth(bench: Bench, p99_at: dict[str, dict[int, float]]) -> None:
    """p99 at the largest size over p99 at the smallest; logarithmic growth allows the ratio
    of the sizes' logarithms."""
    small, large = min(sizes()), max(sizes())
    if small == large:
        return
    allowed = math.log(large) / math.log(small)
    for what in ("list", "timeline"):
        ours = p99_at[what][large] / p99_at[what][small]
        sql = p99_at[f"{what}_sql"][large] / p99_at[f"{what}_sql"][small]
        fig = bench.add(
            Figure(
                "B4",
                f"{what} p99 growth {small:,}→{large:,}",
                "×",
                Spread(ours, ours, ours, 1),
                Spread(sql, sql, sql, 1),
                "hand-written SQL growth",
                target=f"≤ {allowed:.2f} (log)",
            )
        )
        fig.met = ours <= allowed
