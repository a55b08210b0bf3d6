"""SN-6 on the time-skipping server with the services faked by name: the author's task due
on the expense's due date; without a deal the head decides through a task (a rejection
needs a comment and goes back to the author); with a deal the head decides in the chain;
paid → the deal's timeline and a notification to the head with links."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.approvals.chain_fakes import ACCOUNTANT, decide
from tests.unit.workflows.fakes import DEAL_ID, HEAD, MANAGER, PIPELINE_ID, eventually
from tests.unit.workflows.spend_fakes import SPEND_ID, SpendFakes, open_task
from tests.unit.workflows.test_supplier_payment import refused
from workflows.api import WORKFLOWS
from workflows.kit.contracts import STATE_QUERY, AnswerRefused, ProcessInput
from workflows.spend_steps import SpendResult


async def start(
    env: WorkflowEnvironment, task_queue: str, fakes: SpendFakes
) -> WorkflowHandle[Any, Any]:
    # Due days ahead of the server's clock, which earlier tests of the module moved on.
    fakes.due_date = ((await env.get_current_time()).date() + timedelta(days=4)).isoformat()
    prefix = f"deal-{DEAL_ID}" if fakes.deal_id else f"expense-{SPEND_ID}"
    return await env.client.start_workflow(
        "expense_payment",
        ProcessInput(
            fakes.deal_id, PIPELINE_ID if fakes.deal_id else "", MANAGER.id, {"spend_id": SPEND_ID}
        ),
        id=f"{prefix}/expense-payment/{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
        result_type=SpendResult,
    )


async def paid_result(handle: WorkflowHandle[Any, Any]) -> SpendResult:
    """The result once the run has taken the payment: awaiting a result skips time, and the
    due date's reminders must not fire in the moment between the answer and the payment."""

    async def paid() -> bool:
        return str((await handle.query(STATE_QUERY))["stage"]) == "paid"

    await eventually(paid, "the payment taken")
    result: SpendResult = await handle.result()
    return result


@pytest.fixture
def fakes(request: pytest.FixtureRequest) -> SpendFakes:
    return SpendFakes(kind="expense", deal_id=getattr(request, "param", ""))


@pytest.fixture
async def worker(
    env: WorkflowEnvironment, task_queue: str, fakes: SpendFakes
) -> AsyncIterator[Worker]:
    async with Worker(
        env.client, task_queue=task_queue, workflows=list(WORKFLOWS), activities=fakes.activities()
    ) as running:
        yield running


async def test_without_a_deal_rejected_back_to_the_author(
    env: WorkflowEnvironment, task_queue: str, fakes: SpendFakes, worker: Worker
) -> None:
    handle = await start(env, task_queue, fakes)
    task = await open_task(handle, fakes, "expense.approval", who=HEAD.id)
    (due,) = fakes.tasks_of("expense.due")
    due_at = datetime.combine(date.fromisoformat(fakes.due_date), time(), UTC)
    assert (due.assignee_id, due.deadline) == (MANAGER.id, due_at)
    assert due.workflow_id == handle.id and due.deal_id == ""
    await refused(decide(handle, task, MANAGER, "approve"), AnswerRefused.WRONG_ACTOR)
    await refused(decide(handle, task, HEAD, "reject"), AnswerRefused.INVALID_DATA)
    await decide(handle, task, HEAD, "reject", comment="attach the receipt")
    result: SpendResult = await handle.result()

    assert (result.outcome, result.comment, result.decided_by) == (
        "rejected",
        "attach the receipt",
        HEAD.id,
    )
    (decided,) = fakes.of("decide_spend")
    assert (decided.kind, decided.outcome, decided.comment) == (
        "expense",
        "reject",
        "attach the receipt",
    )
    (back,) = fakes.tasks_of("expense.rejected")
    assert back.assignee_id == MANAGER.id and "attach the receipt" in back.description
    assert [c.task_id for c in fakes.of("cancel_task")] == [fakes.task_id(due)]
    assert not fakes.of("open_request"), "no chain without a deal"


async def test_without_a_deal_approved_and_paid(
    env: WorkflowEnvironment, task_queue: str, fakes: SpendFakes, worker: Worker
) -> None:
    handle = await start(env, task_queue, fakes)
    await decide(handle, await open_task(handle, fakes, "expense.approval"), HEAD, "approve")
    pay = await open_task(handle, fakes, "expense.pay", who=ACCOUNTANT.id)
    await decide(handle, pay, ACCOUNTANT, "paid", reference="cash 12")
    result = await paid_result(handle)

    assert (result.outcome, result.decided_by, result.payment_id) == ("paid", HEAD.id, "p1")
    (note,) = fakes.of("create_notification")
    assert (note.user_id, note.kind, note.deal_id) == (HEAD.id, "expense.paid", "")
    assert note.body == f"Expense: /api/v1/expenses/{SPEND_ID}"
    assert not fakes.of("add_timeline_entry")


@pytest.mark.parametrize("fakes", [DEAL_ID], indirect=True)
async def test_on_a_deal_the_head_approves_in_the_chain(
    env: WorkflowEnvironment, task_queue: str, fakes: SpendFakes, worker: Worker
) -> None:
    handle = await start(env, task_queue, fakes)
    chain = env.client.get_workflow_handle(f"{handle.id}/approval-chain")
    await decide(chain, await open_task(chain, fakes, "approval.expense"), HEAD, "approve")
    pay = await open_task(handle, fakes, "expense.pay", who=ACCOUNTANT.id)
    await decide(handle, pay, ACCOUNTANT, "paid")
    result = await paid_result(handle)

    assert (result.outcome, result.decided_by) == ("paid", HEAD.id)
    (opened,) = fakes.of("open_request")
    assert (opened.template_code, opened.deal_id) == ("expense", DEAL_ID)
    (entry,) = [e for e in fakes.of("add_timeline_entry") if e.kind == "finance"]
    assert entry.deal_id == DEAL_ID and entry.idempotency_key == f"{handle.id}/paid/deal-costs"
    (note,) = [n for n in fakes.of("create_notification") if n.kind == "expense.paid"]
    assert note.user_id == HEAD.id and note.deal_id == DEAL_ID
    assert note.body.splitlines() == [
        f"Expense: /api/v1/expenses/{SPEND_ID}",
        f"Deal: /api/v1/deals/{DEAL_ID}",
    ]
    due = fakes.task_id(fakes.tasks_of("expense.due")[0])
    assert due in [c.task_id for c in fakes.of("cancel_task")]


async def test_the_author_is_reminded_before_the_due_date_and_told_when_it_passes(
    env: WorkflowEnvironment, task_queue: str, fakes: SpendFakes, worker: Worker
) -> None:
    handle = await start(env, task_queue, fakes)
    task = await open_task(handle, fakes, "expense.approval", who=HEAD.id)
    due = datetime.combine(date.fromisoformat(fakes.due_date), time(), UTC)
    await env.sleep(due - await env.get_current_time() + timedelta(hours=1))
    told = [(n.kind, n.user_id) for n in fakes.of("create_notification")]
    assert told == [("expense.due_soon", MANAGER.id), ("expense.due", MANAGER.id)]
    await decide(handle, task, HEAD, "reject", comment="too late")
    result: SpendResult = await handle.result()
    assert result.outcome == "rejected"
    assert len(fakes.of("create_notification")) == 2, "each once"
