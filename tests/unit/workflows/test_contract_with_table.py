"""JUG-2 on the time-skipping server with fake activities: the clerk's task carries the
computed table (recomputed each round, each row linking to its product), the deal moves to
Approval once the contract is attached and on once the client agrees, the non-standard
loop runs until then."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.workflows.contract_table_fakes import (
    CLERK,
    REVIEW,
    STAGE_APPROVAL,
    STAGE_SIGNED,
    SUBMIT,
    ContractFakes,
    contract_fakes,
    run_contract,
    start_contract,
)
from tests.unit.workflows.fakes import MANAGER, state
from workflows.api import WORKFLOWS
from workflows.processes.contract_with_table import ContractWithTableResult


@pytest.fixture
async def fakes(env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[ContractFakes]:
    fakes = contract_fakes()
    async with Worker(
        env.client, task_queue=task_queue, workflows=WORKFLOWS, activities=fakes.activities()
    ):
        yield fakes


async def test_the_non_standard_loop_runs_until_the_client_agrees(
    env: WorkflowEnvironment, task_queue: str, fakes: ContractFakes
) -> None:
    handle = await start_contract(env.client, task_queue)
    await run_contract(handle, fakes, ["A 10 rouble discount on pens"])
    result: ContractWithTableResult = await handle.result()

    assert result.outcome == "approved" and result.contract_file_ids == ["contract-2"]
    assert [(r.round, r.outcome, r.submitted_by) for r in result.rounds] == [
        (1, "changes_requested", CLERK.id),
        (2, "approved", CLERK.id),
    ]
    clerk_tasks = fakes.tasks_of(SUBMIT)
    assert [t.assignee_id for t in clerk_tasks] == [CLERK.id, CLERK.id]
    first, second = (t.description for t in clerk_tasks)
    assert "PEN-1 Pen (/api/v1/products/5): 3 pcs × 12.50 − 5.00 = 32.50" in first
    assert "Totals (RUB): net 32.50, VAT 6.50, total 39.00" in first
    assert "non-standard" in clerk_tasks[1].title
    assert "A 10 rouble discount on pens" in second and "total 33.00" in second
    assert all(t.assignee_id == MANAGER.id for t in fakes.tasks_of(REVIEW))
    # Approval once, after the first contract is attached; on to Signed once agreed.
    assert [m.stage_id for m in fakes.of("move_deal")] == [STAGE_APPROVAL, STAGE_SIGNED]
    assert result.table.total == "33.00" and result.table.items[0].product_id == "5"


async def test_the_deal_moves_to_approval_only_once_the_contract_is_attached(
    env: WorkflowEnvironment, task_queue: str, fakes: ContractFakes
) -> None:
    handle = await start_contract(env.client, task_queue)
    await run_contract(handle, fakes, [])
    await handle.result()
    moves = [n for n, _ in fakes.calls if n in ("move_deal", "complete_task", "create_task")]
    # create clerk's task, complete it, then the move, then the manager's task
    assert moves[:4] == ["create_task", "complete_task", "move_deal", "create_task"]
    seen = await state(handle)
    assert seen.stage == "agreed" and seen.details["table"]["total"] == "39.00"


async def test_a_pipeline_without_the_stage_fails_the_run_with_the_reason(
    env: WorkflowEnvironment, task_queue: str, fakes: ContractFakes
) -> None:
    handle = await start_contract(env.client, task_queue, approval_stage="Legal review")
    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    assert "the pipeline has no stage 'Legal review'" in str(caught.value.cause)
