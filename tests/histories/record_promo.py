"""Record BT promo project histories (the whole project: prepayment, our layouts as a child
process, both sites, a card added while the handover is open, a rework, an extra payment;
and the deadline watch reminding, moved by the deal's field, passing):

.venv/bin/python -m tests.histories.record promo_project
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.workflows.layout_fakes import next_task
from tests.unit.workflows.promo_fakes import promo_fakes, run_project, start_project
from workflows.api import WORKFLOWS

HERE = Path(__file__).parent


async def record_promo_project(env: WorkflowEnvironment) -> list[Path]:
    paths = []
    for name in ("whole", "deadline"):
        today = (await env.get_current_time()).date()
        fakes = promo_fakes(deadline=(today + timedelta(days=5)).isoformat())
        task_queue = f"record-{uuid.uuid4().hex}"
        async with Worker(
            env.client, task_queue=task_queue, workflows=WORKFLOWS, activities=fakes.activities()
        ):
            handle = await start_project(
                env.client,
                task_queue,
                workflow_id=f"promo_project_{name}",  # the replay test names a history by its file
            )
            if name == "whole":
                await run_project(env.client, handle, fakes)
                await handle.result()
            else:
                await next_task(handle, fakes, "promo_project.proposal.submit", 1)
                midnight = datetime.combine(today, time(), UTC)
                await env.sleep(midnight + timedelta(days=2.5) - await env.get_current_time())
                moved = (today + timedelta(days=4)).isoformat()
                await handle.signal("deal_fields_changed", {"project_deadline": moved})
                await env.sleep(midnight + timedelta(days=5.5) - await env.get_current_time())
                await handle.terminate("recorded")
            history = await handle.fetch_history()
        path = HERE / f"promo_project_{name}.json"
        path.write_text(history.to_json())
        paths.append(path)
    return paths
