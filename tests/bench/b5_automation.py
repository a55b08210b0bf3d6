"""B5 automation rules: B1's move at concurrency 32 with 10 active rules on the target stage
(9 whose condition is false) against the same move with the rules switched off, measured
interleaved; a move until the rule's task is listed (next to B2's event delivery); and a
5-second delay's lateness (when the action ran against when it was due, from the run log)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

import nats

from tests.bench import resources
from tests.bench.b1_move import DEALS_PER_LANE, Target, _load
from tests.bench.context import Bench, ok, runs
from tests.bench.stats import Figure, Spread, ms, per_run

C = 32
PER_LANE = 10  # moves per lane and run: half enter the stage, each starting 10 rule runs
RULES = 10
TO_TASK = 20  # moves per run, one by one, until the rule's task is listed
DELAYED = 10  # deals moved at once into a stage whose rule waits 5 s (as B3: 10 timers)
DELAY_SECONDS = 5
STREAM, DURABLE = "DEALS", "worker-triggers"  # the triggers' consumer (workflows/triggers.py)
SETTLE_SECONDS = 1.5  # after the triggers are idle: the workflows they started finish


async def _rules(
    bench: Bench, pipeline: dict[str, Any], stage_id: int, *, true_one: dict[str, Any]
) -> list[int]:
    """10 rules entering the stage: one whose condition holds, 9 whose condition is false."""
    made = []
    for i in range(RULES):
        rule: dict[str, Any] = {
            "name": f"B5 rule {i}",
            "trigger": {"event": "enter", "stage_id": stage_id},
            "actions": [true_one],
        }
        if i:
            rule["condition"] = {"field": "title", "op": "eq", "value": f"never {i}"}
        made.append(
            int(
                ok(await bench.admin.post(f"/pipelines/{pipeline['id']}/rules", json=rule), 201)[
                    "id"
                ]
            )
        )
    return made


async def _switch(bench: Bench, pipeline_id: int, rules: list[int], active: bool) -> None:
    for rule in rules:
        ok(
            await bench.admin.patch(
                f"/pipelines/{pipeline_id}/rules/{rule}", json={"active": active}
            )
        )


async def _move_throughput(bench: Bench) -> None:
    contract = bench.stage_ids[1]
    note = {"type": "add_timeline_note", "text": "B5"}
    rules = await _rules(bench, bench.pipeline, contract, true_one=note)
    deals = await bench.create_deals(C * DEALS_PER_LANE, "B5")
    lanes = [deals[i * DEALS_PER_LANE : (i + 1) * DEALS_PER_LANE] for i in range(C)]
    url, prefix = bench.stack.gateway_url, "/api/v1"
    pids = resources.pids(bench.stack)
    ruled, bare = Target(url, prefix, pids), Target(url, prefix, pids)
    with_rules, without = ruled.results, bare.results
    for _ in range(runs()):  # interleaved, so that noise hits both alike
        await _measure(bench, ruled, lanes)
        await _switch(bench, bench.pipeline["id"], rules, False)
        await _measure(bench, bare, lanes)
        await _switch(bench, bench.pipeline["id"], rules, True)
    await _switch(bench, bench.pipeline["id"], rules, False)  # leave B1's pipeline as it was
    _report_cpu(bench, ruled, bare)
    rate = bench.add(
        Figure(
            "B5",
            f"move c={C} throughput, 10 rules on the stage",
            "req/s",
            Spread.of([r.rate for r in with_rules]),
            Spread.of([r.rate for r in without]),
            "the same move, rules off",
            better="higher",
            target="within 10 % of no rules",
        )
    )
    rate.met = (rate.ratio or 0) >= 0.9


async def _measure(bench: Bench, target: Target, lanes: list[list[int]]) -> None:
    """One load, and the CPU every process spent on it until the rules' work is done too
    (the worker's triggers hold no event; then a moment for the workflows to finish)."""
    before = resources.cpu_seconds(target.pids)
    target.results.append(await _load(bench, target.url, target.prefix, lanes, PER_LANE))
    nc = await nats.connect(bench.stack.nats_url)
    try:
        for _ in range(1200):
            info = await nc.jetstream().consumer_info(STREAM, DURABLE)
            if info.num_pending == 0 and info.num_ack_pending == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        await nc.close()
    await asyncio.sleep(SETTLE_SECONDS)
    used = resources.cpu_delta(before, resources.cpu_seconds(target.pids))
    for proc, seconds in used.items():
        target.cpu[proc] = target.cpu.get(proc, 0.0) + seconds


def _report_cpu(bench: Bench, ruled: Target, bare: Target) -> None:
    """CPU per move with the rules against without, all processes and the busiest ones."""
    ours, base = ruled.cpu_ms_per_request(), bare.cpu_ms_per_request()
    rows = [("CPU per move with the rules' work, all processes", sum(ours.values()))]
    busiest = sorted(ours, key=lambda p: -ours[p])[:7]
    rows += [(f"  CPU per move: {p}", ours[p]) for p in busiest]
    for name, value in rows:
        baseline = sum(base.values()) if name.startswith("CPU") else base.get(name.split()[-1], 0)
        bench.add(
            Figure(
                "B5",
                name,
                "ms",
                Spread(value, value, value, 1),
                Spread(baseline, baseline, baseline, 1),
                "the same move, rules off",
            )
        )


async def _pipeline(bench: Bench, name: str) -> tuple[dict[str, Any], int]:
    stages = [{"name": "A", "semantic": "in_progress"}, {"name": "B", "semantic": "in_progress"}]
    made = ok(await bench.admin.post("/pipelines", json={"name": name, "stages": stages}), 201)
    return made, int(made["stages"][1]["id"])


async def _deals(bench: Bench, pipeline: dict[str, Any], count: int) -> list[int]:
    body = {"pipeline_id": pipeline["id"], "title": "B5"}
    return [int(ok(await bench.manager.post("/deals", json=body), 201)["id"]) for _ in range(count)]


async def _to_task(bench: Bench) -> None:
    pipeline, target = await _pipeline(bench, "B5 tasks")
    task = {"type": "create_task", "title": "B5 task", "assignee": {"kind": "responsible"}}
    await _rules(bench, pipeline, target, true_one=task)
    samples = []
    for _ in range(runs()):
        run = []
        for deal in await _deals(bench, pipeline, TO_TASK):
            start = time.perf_counter()
            ok(await bench.manager.post(f"/deals/{deal}/move", json={"stage_id": target}))
            while not ok(
                await bench.manager.get("/tasks", params={"assignee": "me", "deal_id": deal})
            )["items"]:
                await asyncio.sleep(0.005)
            run.append(time.perf_counter() - start)
        samples.append(ms(run))
    for q in (50, 99):
        bench.add(
            Figure(
                "B5",
                f"move → the rule's task listed p{q}",
                "ms",
                per_run(samples, q),
                note="next to B2",
            )
        )


async def _lateness(bench: Bench) -> None:
    pipeline, target = await _pipeline(bench, "B5 delays")
    rule = {
        "name": "B5 delayed note",
        "trigger": {"event": "enter", "stage_id": target},
        "actions": [
            {"type": "add_timeline_note", "text": "late?", "delay": {"seconds": DELAY_SECONDS}}
        ],
    }
    ok(await bench.admin.post(f"/pipelines/{pipeline['id']}/rules", json=rule), 201)
    samples = []
    for _ in range(runs()):
        deals = await _deals(bench, pipeline, DELAYED)
        await asyncio.gather(
            *(bench.manager.post(f"/deals/{d}/move", json={"stage_id": target}) for d in deals)
        )
        late = []
        for deal in deals:
            while True:
                log = ok(await bench.manager.get(f"/deals/{deal}/automation"))
                if log and log[0]["status"] == "done":
                    break
                await asyncio.sleep(0.2)
            done, due = log[0]["steps"][0]["at"], log[0]["actions"][0]["due_at"]
            late.append(
                (datetime.fromisoformat(done) - datetime.fromisoformat(due)).total_seconds()
            )
        samples.append(ms(late))
    fig = bench.add(
        Figure(
            "B5",
            f"{DELAY_SECONDS}-second delay lateness p99",
            "ms",
            per_run(samples, 99),
            target="≤ 1000 ms",
        )
    )
    fig.met = fig.value.median <= 1000


async def run(bench: Bench) -> None:
    await _to_task(bench)
    await _lateness(bench)
    await _move_throughput(bench)
