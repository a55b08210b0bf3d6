"""Step deadlines on the time-skipping server: a reminder before, the head told after.

A module of its own: it skips time, and a terminated run of another test whose activity was
still in flight keeps the test server from skipping (its own server per module)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.approvals.chain_fakes import (
    ChainFakes,
    decide,
    pit2_template,
    start_chain,
)
from tests.unit.workflows.fakes import HEAD, eventually
from tests.unit.workflows.test_approval_chain import open_task
from workflows.processes.approval_chain import ApprovalChain


async def test_a_deadline_reminds_then_escalates_to_the_head(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = ChainFakes(
        template=pit2_template(deadline_hours=24, remind_before_hours=4, escalate=True)
    )
    async with Worker(
        env.client, task_queue=task_queue, workflows=[ApprovalChain], activities=fakes.activities()
    ):
        handle = await start_chain(env.client, task_queue)
        task = await open_task(handle, fakes, "approval.head")
        due = fakes.tasks_of("approval.head")[0].deadline
        assert due is not None

        def kinds() -> list[str]:
            return [n.kind for n in fakes.of("create_notification")]

        await env.sleep(timedelta(hours=19))
        assert kinds() == [], "no reminder before its time"
        await env.sleep(timedelta(hours=2))
        await eventually(lambda: kinds() == ["approval.reminder"], "the reminder")
        assert fakes.of("create_notification")[0].user_id == HEAD.id
        await env.sleep(timedelta(hours=4))
        await eventually(lambda: "approval.overdue" in kinds(), "the escalation")
        assert [f.user_id for f in fakes.of("find_head")] == [HEAD.id]
        await decide(handle, task, HEAD, "approve")  # late, but still the head's to decide
        await open_task(handle, fakes, "approval.accounting")
        await handle.terminate()
