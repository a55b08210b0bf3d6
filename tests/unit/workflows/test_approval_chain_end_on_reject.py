"""`end_on_reject`: a rejection ends the chain with outcome "rejected" and the comment, no
restart task for the initiator (the parent decides: a spend goes back to its author)."""

from __future__ import annotations

import uuid
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.approvals.chain_fakes import ChainFakes, chain_state, decide
from tests.unit.workflows.fakes import DEAL_ID, HEAD, MANAGER, PIPELINE_ID, eventually
from workflows.processes.approval_chain import ApprovalChain, ChainInput, ChainResult


async def test_a_rejection_ends_the_chain(env: WorkflowEnvironment, task_queue: str) -> None:
    fakes = ChainFakes()
    async with Worker(
        env.client, task_queue=task_queue, workflows=[ApprovalChain], activities=fakes.activities()
    ):
        handle = await env.client.start_workflow(
            ApprovalChain.run,
            ChainInput(DEAL_ID, PIPELINE_ID, MANAGER.id, "pit2", end_on_reject=True),
            id=f"deal-{DEAL_ID}/approval-chain/{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
        )
        await eventually(lambda: fakes.tasks_of("approval.head"), "the head's task")
        task_id = fakes.task_id(fakes.tasks_of("approval.head")[0])
        await eventually(lambda: _open(handle, task_id), "the head's task open")
        await decide(handle, task_id, HEAD, "reject", comment="too expensive")
        result: ChainResult = await handle.result()

    assert (result.outcome, result.reason, result.rounds) == ("rejected", "too expensive", 1)
    assert not fakes.tasks_of("approval.returned"), "no restart task: the parent decides"
    (closed,) = fakes.of("close_round")
    assert (closed.round_status, closed.request_status) == ("rejected", "rejected")


async def _open(handle: WorkflowHandle[Any, Any], task_id: str) -> bool:
    return task_id in (await chain_state(handle)).open_task_ids
