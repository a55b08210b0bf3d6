"""SM-4 contract approval and PIT-2 client onboarding on the time-skipping server: the
contract's statuses through the chain, the signed scan (a file of the deal) filed and
attached, the `Stage` search attribute following every stage (a signed contract's process
is listed as signed), and bad params failing the run at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.histories.record_approvals import approve_round, open_task
from tests.unit.approvals.chain_fakes import ChainFakes, decide
from tests.unit.workflows.fakes import DEAL_ID, HEAD, MANAGER, PIPELINE_ID
from workflows.api import WORKFLOWS
from workflows.kit.contracts import ASSIGNEE, STAGE, AnswerRefused, ProcessInput


@pytest.fixture
async def fakes(env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[ChainFakes]:
    fakes = ChainFakes()
    async with Worker(
        env.client, task_queue=task_queue, workflows=WORKFLOWS, activities=fakes.activities()
    ):
        yield fakes


async def start(
    env: WorkflowEnvironment, task_queue: str, process: str, run: str = "1", **params: Any
) -> WorkflowHandle[Any, Any]:
    return await env.client.start_workflow(
        process,
        ProcessInput(DEAL_ID, PIPELINE_ID, MANAGER.id, params),
        id=f"deal-{DEAL_ID}/{process}/{task_queue}/{run}",
        task_queue=task_queue,
    )


async def search_attribute(handle: WorkflowHandle[Any, Any], key: Any) -> Any:
    return (await handle.describe()).typed_search_attributes.get(key)


async def test_contract_approved_sent_and_signed(
    env: WorkflowEnvironment, task_queue: str, fakes: ChainFakes
) -> None:
    parent = await start(env, task_queue, "contract_approval", contract_id="5")
    chain = env.client.get_workflow_handle(f"{parent.id}/approval-chain")
    await approve_round(chain, fakes, 1)
    send = await open_task(parent, fakes, "contract.send", 1)
    assert await search_attribute(parent, STAGE) == "approved"
    await decide(parent, send, MANAGER, "sent")
    assert await search_attribute(parent, STAGE) == "sent"
    scan = await open_task(parent, fakes, "contract.signed_scan", 1)
    (scan_task,) = fakes.tasks_of("contract.signed_scan")
    assert [(f.name, f.type) for f in scan_task.answer_fields] == [("file_id", "file")]
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await decide(parent, scan, MANAGER, "signed", file_id="other-9")  # not the deal's
    assert refused.value.cause.type == AnswerRefused.INVALID_DATA  # type: ignore[attr-defined]
    await decide(parent, scan, MANAGER, "signed", file_id="55")
    result = await parent.result()

    assert result["status"] == "signed"
    statuses = [c.status for c in fakes.of("set_contract_status")]
    assert statuses == ["in_approval", "approved", "sent"]
    (document,) = fakes.of("add_contract_document")
    assert document.file_id == "55" and document.kind == "signed_scan"
    assert [a.target_id for a in fakes.of("attach_files") if a.kind == "contract"] == ["5"]
    # The drift the kit fixed: the stage of a signed contract is `signed` in the UI too.
    assert await search_attribute(parent, STAGE) == "signed"
    assert await search_attribute(parent, ASSIGNEE) is None


async def test_a_contract_of_another_deal_fails_the_run(
    env: WorkflowEnvironment, task_queue: str, fakes: ChainFakes
) -> None:
    for params in ({"contract_id": "abc"}, {}, {"contract_id": "5", "colour": "red"}):
        handle = await start(env, task_queue, "contract_approval", str(params), **params)
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        assert failed.value.cause.type == "InvalidParams"  # type: ignore[attr-defined]


async def test_onboarding_runs_the_chain_and_sets_its_stage(
    env: WorkflowEnvironment, task_queue: str, fakes: ChainFakes
) -> None:
    parent = await start(env, task_queue, "client_onboarding", template="pit2")
    chain = env.client.get_workflow_handle(f"{parent.id}/approval-chain")
    await open_task(chain, fakes, "approval.head", 1)
    assert await search_attribute(parent, STAGE) == "terms_approval"
    await approve_round(chain, fakes, 1)
    result = await parent.result()
    assert result["outcome"] == "approved"
    assert await search_attribute(parent, STAGE) == "terms_approved"
    (template,) = fakes.of("get_approval_template")
    assert template.code == "pit2"


async def test_onboarding_rejected_and_lost(
    env: WorkflowEnvironment, task_queue: str, fakes: ChainFakes
) -> None:
    parent = await start(env, task_queue, "client_onboarding", template="pit2")
    chain = env.client.get_workflow_handle(f"{parent.id}/approval-chain")
    task = await open_task(chain, fakes, "approval.head", 1)
    await decide(chain, task, HEAD, "reject", comment="limit too high")
    back = await open_task(chain, fakes, "approval.returned", 1)
    await decide(chain, back, MANAGER, "lose", reason="client went elsewhere")
    result = await parent.result()
    assert result["outcome"] == "lost" and result["reason"] == "client went elsewhere"
    assert await search_attribute(parent, STAGE) == "terms_lost"


async def test_onboarding_refuses_a_bad_template_code(
    env: WorkflowEnvironment, task_queue: str, fakes: ChainFakes
) -> None:
    handle = await start(env, task_queue, "client_onboarding", template="Not A Code")
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    assert "template must be an approval template code" in str(failed.value.cause)
