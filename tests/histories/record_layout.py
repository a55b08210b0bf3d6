"""Record SM-3 layout revision histories (two rounds of changes, then approved):

.venv/bin/python -m tests.histories.record layout_revision
"""

from __future__ import annotations

import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.workflows.layout_fakes import layout_fakes, run_rounds, start_layout
from workflows.api import WORKFLOWS

HERE = Path(__file__).parent


async def record_layout_revision(env: WorkflowEnvironment, name: str = "two_rounds") -> list[Path]:
    """`name` other than the first (e.g. `two_rounds_v2` after a patched change) keeps the
    histories recorded before next to it."""
    fakes = layout_fakes()
    task_queue = f"record-{uuid.uuid4().hex}"
    async with Worker(
        env.client, task_queue=task_queue, workflows=WORKFLOWS, activities=fakes.activities()
    ):
        handle = await start_layout(
            env.client, task_queue, workflow_id=f"deal-42/layout-revision/{name}"
        )
        await run_rounds(handle, fakes, ["Make the logo bigger", "Use the brand blue"])
        await handle.result()
        history = await handle.fetch_history()
    path = HERE / f"layout_revision_{name}.json"
    path.write_text(history.to_json())
    return [path]
