"""Profile driver for B3's answers (not part of `make bench`): N sample returns started at
c=8, each polled until its first task is listed; then the N tasks answered one by one. CPU
per start and per answer of each process, the answers' workflow tasks from their
histories, and `CheckAnswerer` / `GetTask` timed as direct gRPC calls.

`N=100 SPY=1 OUT=/tmp/prof .venv/bin/python -m tests.bench.profile_answers`; SPY=1 runs
py-spy (installed by hand, not a dependency) on the gateway, notifications and the worker
during the starts and during the answers, raw output in OUT."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path
from typing import Any

from dealflow.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from temporalio.client import Client

from deploy.local.stack import Stack
from services.common import grpc_client
from tests.bench import resources
from tests.bench.b3_process import _complete, _pool, _start_until_task
from tests.bench.context import Bench, open_bench
from tests.bench.httpload import LoadGenerator
from tests.bench.profile_stack import cpu_table, run_on_stack, spy, stop

N = int(os.environ.get("N", "100"))
OUT = Path(os.environ.get("OUT", "/tmp/dealflow-profile"))
UPDATE_ACCEPTED = "workflow_execution_update_accepted_event_attributes"


async def main(stack: Stack, load: LoadGenerator) -> None:
    bench = await open_bench(stack, load)
    deals = await bench.create_deals(N + 5, "P")
    for _ in range(5):  # warm-up
        _, task = await _start_until_task(bench, deals.pop(), 0.01)
        await _complete(bench, task)
    tasks: list[int] = []

    async def start(i: int) -> None:
        tasks.append((await _start_until_task(bench, deals[i], 0.05))[1])

    pids = resources.pids(stack)
    spies = spy(pids, ("gateway", "notifications", "worker"), OUT, "starts") if _spy() else []
    before, began = resources.cpu_seconds(pids), time.perf_counter()
    await _pool(N, 8, start)
    stop(spies)
    print(f"starts: {N / (time.perf_counter() - began):.2f}/s, load {os.getloadavg()}")
    cpu_table("start", before, resources.cpu_seconds(pids), N)
    await asyncio.sleep(3)
    spies = spy(pids, ("gateway", "notifications", "worker"), OUT, "answers") if _spy() else []
    before = resources.cpu_seconds(pids)
    took = [await _complete(bench, task) for task in tasks]
    after = resources.cpu_seconds(pids)
    stop(spies)
    print(f"answers: p50 {statistics.median(took) * 1000:.1f} ms, load {os.getloadavg()}")
    cpu_table("answer", before, after, len(took))
    await _workflow_tasks(bench, tasks[:40])
    await _rpcs(stack, bench, tasks[:100])


def _spy() -> bool:
    return os.environ.get("SPY") == "1"


async def _workflow_tasks(bench: Bench, tasks: list[int]) -> None:
    """The answer's workflow task: scheduled → started, started → completed (p50)."""
    client = await Client.connect(bench.stack.temporal_address, namespace=bench.stack.namespace)
    waited, ran = [], []
    for task in tasks:
        workflow_id = (await bench.manager.get(f"/tasks/{task}")).json()["workflow_id"]
        events = (await client.get_workflow_handle(workflow_id).fetch_history()).events
        for i, event in enumerate(events):
            if event.WhichOneof("attributes") == UPDATE_ACCEPTED:
                at = [events[i - k].event_time.ToDatetime() for k in (3, 2, 1)]
                waited.append((at[1] - at[0]).total_seconds())
                ran.append((at[2] - at[1]).total_seconds())
                break
    print(
        f"answer's workflow task: scheduled→started p50 {statistics.median(waited) * 1000:.1f}"
        f" ms, started→completed p50 {statistics.median(ran) * 1000:.1f} ms"
    )


async def _rpcs(stack: Stack, bench: Bench, tasks: list[int]) -> None:
    channel = grpc_client.channel(stack.service_addr("notifications"))
    stub: Any = notifications_pb2_grpc.NotificationsServiceStub(channel)
    for name, request in (
        ("CheckAnswerer", notifications_pb2.CheckAnswererRequest),
        ("GetTask", notifications_pb2.GetTaskRequest),
    ):
        took = []
        for task in tasks:
            began = time.perf_counter()
            await grpc_client.call(
                getattr(stub, name), request(id=str(task)), actor=bench.manager_id
            )
            took.append(time.perf_counter() - began)
        print(f"{name} RPC p50 {statistics.median(took) * 1000:.2f} ms")
    await channel.close()


if __name__ == "__main__":
    run_on_stack(main)
