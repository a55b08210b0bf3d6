"""Record the histories of completed process runs for the replay test.

    .venv/bin/python -m tests.histories.record                  # every process
    .venv/bin/python -m tests.histories.record sample_return    # one process

Run it when a process gains a new path (and keep the old files: running processes still
have the old histories, so replaying them against the new code is the point). It writes
`<process>_<scenario>.json` next to this file. A new process adds its recorder to
RECORDERS: a function that runs its scenarios on the time-skipping server with fake
activities and returns the files it wrote.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.histories.record_contract_table import record_contract_with_table
from tests.histories.record_deal_processes import (
    record_production_shipment,
    record_proposal_follow_up,
    record_shipment_dispatch,
)
from tests.histories.record_layout import record_layout_revision
from tests.histories.record_lead_proposal import record_lead_proposal
from tests.histories.record_promo import record_promo_project
from tests.unit.workflows.fakes import FakeServices, run_happy_path, start_env, start_run
from workflows.api import WORKFLOWS

HERE = Path(__file__).parent


async def record(env: WorkflowEnvironment, name: str, *, due_in_days: int, overdue: bool) -> Path:
    fakes = FakeServices()
    task_queue = f"record-{uuid.uuid4().hex}"
    async with Worker(
        env.client, task_queue=task_queue, workflows=list(WORKFLOWS), activities=fakes.activities()
    ):
        return_by = (await env.get_current_time()).date() + timedelta(days=due_in_days)
        handle = await start_run(
            env.client, task_queue, return_by, workflow_id=f"deal-42/sample-return/{name}"
        )
        escalate: Callable[[], Awaitable[None]] | None = None
        if overdue:
            escalate = lambda: env.sleep(timedelta(days=due_in_days + 2))  # noqa: E731
        await run_happy_path(handle, fakes, escalate=escalate)
        await handle.result()
        history = await handle.fetch_history()
    path = HERE / f"sample_return_{name}.json"
    path.write_text(history.to_json())
    return path


async def record_sample_return(env: WorkflowEnvironment) -> list[Path]:
    return [
        await record(env, name, due_in_days=5, overdue=overdue)
        for name, overdue in (("happy", False), ("escalation", True))
    ]


RECORDERS: dict[str, Callable[[WorkflowEnvironment], Awaitable[list[Path]]]] = {
    "sample_return": record_sample_return,
    "layout_revision": record_layout_revision,
    "shipment_dispatch": record_shipment_dispatch,
    "proposal_follow_up": record_proposal_follow_up,
    "production_shipment": record_production_shipment,
    "promo_project": record_promo_project,
    "contract_with_table": record_contract_with_table,
    "lead_proposal": record_lead_proposal,
}


async def main(processes: list[str]) -> None:
    unknown = sorted(set(processes) - set(RECORDERS))
    if unknown:
        raise SystemExit(f"no recorder for {', '.join(unknown)}; known: {', '.join(RECORDERS)}")
    env = await start_env()
    try:
        for process in processes or list(RECORDERS):
            for path in await RECORDERS[process](env):
                print(path)
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
