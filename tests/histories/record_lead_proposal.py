"""Record JUG-1 lead proposal histories (terms approved then positive; no answer, a retry
after the delay, then given up):

.venv/bin/python -m tests.histories.record lead_proposal
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.workflows.fakes import MANAGER
from tests.unit.workflows.lead_proposal_fakes import (
    FEEDBACK,
    GO_ON,
    PROPOSAL,
    Driver,
    lead_fakes,
    start_proposal,
    terms_then_positive,
)
from workflows.api import WORKFLOWS

HERE = Path(__file__).parent


async def record_lead_proposal(env: WorkflowEnvironment) -> list[Path]:
    fakes = lead_fakes()
    task_queue = f"record-{uuid.uuid4().hex}"
    paths = []
    async with Worker(
        env.client, task_queue=task_queue, workflows=WORKFLOWS, activities=fakes.activities()
    ):
        for name in ("converted", "no_answer_lost"):
            handle = await start_proposal(
                env.client, task_queue, workflow_id=f"lead-17/lead-proposal/{name}",
                max_attempts=2, retry_after_hours=24,
            )  # fmt: skip
            if name == "converted":
                await terms_then_positive(handle, fakes)
            else:
                run = Driver(handle, fakes)
                run.seen = {PROPOSAL: 2, FEEDBACK: 2}
                await run.answer(PROPOSAL, MANAGER, "sent")
                await run.answer(FEEDBACK, MANAGER, "no_answer")
                await env.sleep(timedelta(hours=25))
                await run.answer(FEEDBACK, MANAGER, "no_answer")
                await run.answer(GO_ON, MANAGER, "give_up", comment="unreachable")
            await handle.result()
            path = HERE / f"lead_proposal_{name}.json"
            path.write_text((await handle.fetch_history()).to_json())
            paths.append(path)
    return paths
