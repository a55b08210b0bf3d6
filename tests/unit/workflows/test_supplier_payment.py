"""SM-6 on the time-skipping server with the services faked by name: the CEO approves in
the chain, the first accountant's answer pays (as that accountant), the other's task is
cancelled, closing documents close it; a rejection goes back to the manager; a payment
finance refuses refuses the answer and the task stays open."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.approvals.chain_fakes import ACCOUNTANT, ACCOUNTANT_2, decide
from tests.unit.workflows.fakes import DEAL_ID, MANAGER, PIPELINE_ID
from tests.unit.workflows.spend_fakes import CEO, SPEND_ID, SpendFakes, open_task
from workflows.api import WORKFLOWS
from workflows.kit.contracts import AnswerRefused, ProcessInput
from workflows.spend_steps import SpendResult


@pytest.fixture
def fakes() -> SpendFakes:
    return SpendFakes()


@pytest.fixture
async def worker(
    env: WorkflowEnvironment, task_queue: str, fakes: SpendFakes
) -> AsyncIterator[Worker]:
    async with Worker(
        env.client, task_queue=task_queue, workflows=list(WORKFLOWS), activities=fakes.activities()
    ) as running:
        yield running


async def start(env: WorkflowEnvironment, task_queue: str) -> WorkflowHandle[Any, Any]:
    return await env.client.start_workflow(
        "supplier_payment",
        ProcessInput(DEAL_ID, PIPELINE_ID, MANAGER.id, {"spend_id": SPEND_ID}),
        id=f"deal-{DEAL_ID}/supplier-payment/{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
        result_type=SpendResult,
    )


async def refused(call: Any, kind: str) -> None:
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await call
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == kind, cause


async def test_approved_paid_and_closed(
    env: WorkflowEnvironment, task_queue: str, fakes: SpendFakes, worker: Worker
) -> None:
    handle = await start(env, task_queue)
    chain = env.client.get_workflow_handle(f"{handle.id}/approval-chain")
    ceo_task = await open_task(chain, fakes, "approval.supplier_payment")
    await decide(chain, ceo_task, CEO, "approve")

    first = await open_task(handle, fakes, "supplier_payment.pay", who=ACCOUNTANT.id)
    second = await open_task(handle, fakes, "supplier_payment.pay", who=ACCOUNTANT_2.id)
    await refused(
        decide(handle, first, ACCOUNTANT, "paid", paid_on="05.12.2026"), AnswerRefused.INVALID_DATA
    )
    await decide(handle, first, ACCOUNTANT, "paid", reference="PP-77", paid_on="2026-12-01")
    close = await open_task(handle, fakes, "supplier_payment.close", who=ACCOUNTANT.id)
    await refused(decide(handle, close, ACCOUNTANT, "closed"), AnswerRefused.INVALID_DATA)
    await decide(handle, close, ACCOUNTANT, "closed", documents=["Act 12", "Waybill 7"])
    result: SpendResult = await handle.result()

    assert (result.outcome, result.decided_by, result.payment_id) == ("closed", CEO.id, "p1")
    (chain_input,) = fakes.of("open_request")
    assert chain_input.template_code == "supplier_payment"
    (decided,) = fakes.of("decide_spend")
    assert (decided.outcome, decided.decided_by, decided.spend_id) == ("approve", CEO.id, SPEND_ID)
    (paid,) = fakes.of("pay_spend")
    assert (paid.actor_id, paid.reference, paid.paid_on) == (ACCOUNTANT.id, "PP-77", "2026-12-01")
    assert paid.idempotency_key == f"{handle.id}/pay"
    assert [c.task_id for c in fakes.of("cancel_task")] == [second]
    (closed,) = fakes.of("close_spend")
    assert (closed.actor_id, closed.documents) == (ACCOUNTANT.id, ["Act 12", "Waybill 7"])


async def test_rejected_back_to_the_manager(
    env: WorkflowEnvironment, task_queue: str, fakes: SpendFakes, worker: Worker
) -> None:
    handle = await start(env, task_queue)
    chain = env.client.get_workflow_handle(f"{handle.id}/approval-chain")
    ceo_task = await open_task(chain, fakes, "approval.supplier_payment")
    await decide(chain, ceo_task, CEO, "reject", comment="ask for a discount")
    result: SpendResult = await handle.result()

    assert (result.outcome, result.comment) == ("rejected", "ask for a discount")
    (decided,) = fakes.of("decide_spend")
    assert (decided.outcome, decided.comment, decided.decided_by) == (
        "reject",
        "ask for a discount",
        CEO.id,
    )
    (back,) = fakes.tasks_of("supplier_payment.rejected")
    assert back.assignee_id == MANAGER.id and "ask for a discount" in back.title
    assert back.workflow_id == "", "nobody waits on it: resubmitting starts a new run"
    assert not fakes.of("pay_spend") and not fakes.tasks_of("supplier_payment.pay")


async def test_a_payment_finance_refuses_keeps_the_task_open(
    env: WorkflowEnvironment, task_queue: str, worker: Worker, fakes: SpendFakes
) -> None:
    fakes.refuse_pay = "PermissionDenied"
    handle = await start(env, task_queue)
    chain = env.client.get_workflow_handle(f"{handle.id}/approval-chain")
    await decide(chain, await open_task(chain, fakes, "approval.supplier_payment"), CEO, "approve")
    task = await open_task(handle, fakes, "supplier_payment.pay", who=ACCOUNTANT.id)
    await refused(decide(handle, task, ACCOUNTANT, "paid"), AnswerRefused.WRONG_ACTOR)
    fakes.refuse_pay = ""
    await decide(handle, task, ACCOUNTANT, "paid")
    close = await open_task(handle, fakes, "supplier_payment.close")
    await decide(handle, close, ACCOUNTANT, "closed", documents=["Act 1"])
    assert (await handle.result()).outcome == "closed"


def test_fakes_mirror_the_finance_activities() -> None:
    from workflows.activities.finance import FinanceActivities

    def names(fns: list[Any]) -> set[str]:
        return {fn.__temporal_activity_definition.name for fn in fns}

    real = FinanceActivities(object())  # type: ignore[arg-type]
    assert names(real.all()) <= names(SpendFakes().activities())
