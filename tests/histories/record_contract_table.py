"""Record JUG-2 contract histories (one non-standard round, then agreed):

.venv/bin/python -m tests.histories.record contract_with_table
"""

from __future__ import annotations

import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.workflows.contract_table_fakes import contract_fakes, run_contract, start_contract
from workflows.api import WORKFLOWS

HERE = Path(__file__).parent


async def record_contract_with_table(
    env: WorkflowEnvironment, name: str = "non_standard"
) -> list[Path]:
    fakes = contract_fakes()
    task_queue = f"record-{uuid.uuid4().hex}"
    async with Worker(
        env.client, task_queue=task_queue, workflows=WORKFLOWS, activities=fakes.activities()
    ):
        handle = await start_contract(
            env.client, task_queue, workflow_id=f"deal-42/contract-with-table/{name}"
        )
        await run_contract(handle, fakes, ["A 10 rouble discount on pens"])
        await handle.result()
        history = await handle.fetch_history()
    path = HERE / f"contract_with_table_{name}.json"
    path.write_text(history.to_json())
    return [path]
