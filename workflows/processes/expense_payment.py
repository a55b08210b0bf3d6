"""SN-6 Expense payment: an expense (linked to a deal or not), once submitted, goes to the
heads (the approval chain, template `expense`; without a deal, the head of the author's
department through a task). Meanwhile its author holds a task due on the expense's due
date, which feeds the payment calendar. Approved, an accountant prepares the payment (the
answer records it in finance); rejected, it goes back to the author with the comment.
Paid starts two sub-steps: the deal's costs and profit (finance adds the payment to the
deal's money in the same transaction; the deal's timeline says so) and a notification to
the head with links to the expense and the deal. Started by
`POST /api/v1/expenses/{id}/submit`."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

from temporalio import workflow

from workflows.activities import calls
from workflows.kit import DeadlineWatch, OpenTask, Process, TaskSpec
from workflows.kit import process as declare
from workflows.kit.process import FINISH_CLEARS_ASSIGNEE

with workflow.unsafe.imports_passed_through():
    # Imported here so the sandbox resolves the chain result's hints through its module.
    from workflows import approval_chain_types  # noqa: F401
    from workflows.activities.types import (
        AddTimelineEntryInput,
        CreateNotificationInput,
        FindHeadInput,
    )
    from workflows.kit.contracts import ProcessInput, TaskAnswer
    from workflows.spend_steps import APPROVE, SpendParams, SpendResult, SpendSteps, Verdict

PROCESS = "expense_payment"
KIND = "expense"
TEMPLATE = "expense"
PAY, DUE = f"{KIND}.pay", f"{KIND}.due"
# Runs from this patch on remind the author before the due date and tell them when it passes.
DUE_WATCH = "expense-due-watch"
API = "/api/v1"
__all__ = ["PROCESS", "ExpensePayment"]


@declare(PROCESS, params=SpendParams, starts="spend", spend_kind=KIND)
class ExpensePayment(Process):
    """SN-6: an expense, approved by the heads, paid by an accountant, its head told."""

    kit_patches = frozenset({FINISH_CLEARS_ASSIGNEE})

    def setup(self) -> None:
        self.steps = SpendSteps(self, KIND, "Expense", f"{API}/expenses")

    @workflow.run
    async def run(self, inp: ProcessInput) -> SpendResult:
        steps = self.steps
        spend = await steps.load()
        due = await self.tasks.start(
            TaskSpec(
                step="due",
                kind=DUE,
                assignee_id=steps.author(),
                title=f"Due {spend.due_date}: {steps.what()}",
                outcomes=["done"],
                deadline=datetime.combine(date.fromisoformat(spend.due_date), time(), UTC),
                awaited=False,
            )
        )
        if workflow.patched(DUE_WATCH):
            self.run_alongside(
                DeadlineWatch(
                    "due",
                    due.spec.deadline,
                    remind_before=[timedelta(days=1)],
                    on_reminder=lambda _: self._tell_author("due_soon", "due tomorrow"),
                    on_due=lambda: self._tell_author("due", "due today, not paid yet"),
                ),
                until=lambda: self.stage in ("paid", "rejected"),
            )
        verdict = await steps.approval(TEMPLATE)
        await steps.decide(verdict)
        if verdict.outcome != APPROVE:
            await self.tasks.cancel(due, "rejected; a resubmission opens a new one")
            await steps.back_to_author(verdict)
            return await self._done("rejected", verdict)
        await steps.payment()
        await self.tasks.cancel(due, "paid")
        await asyncio.gather(self._deal_costs(), self._tell_head())
        return await self._done("paid", verdict)

    async def _deal_costs(self) -> None:
        """Finance added the payment to the deal's costs when it was recorded (one
        transaction); the deal's timeline shows it."""
        spend = self.steps.spend
        assert spend is not None
        if not spend.deal_id:
            return
        await calls.add_timeline_entry(
            AddTimelineEntryInput(
                idempotency_key=self.steps.key("paid/deal-costs"),
                deal_id=spend.deal_id,
                text=f"Expense paid, added to the deal's costs: {self.steps.what()}",
                kind="finance",
                data={"expense_id": spend.id, "payment_id": self.steps.payment_id},
            )
        )

    async def _tell_author(self, kind: str, when: str) -> None:
        """While it is not paid: the author hears of the due date coming and passing."""
        spend = self.steps.spend
        assert spend is not None
        await calls.create_notification(
            CreateNotificationInput(
                idempotency_key=self.key(f"due/{kind}"),
                user_id=self.steps.author(),
                kind=f"expense.{kind}",
                title=f"Expense {when}: {self.steps.what()}",
                body=f"Due {spend.due_date}; the process is at {self.stage}.",
                deal_id=spend.deal_id,
            )
        )

    async def _tell_head(self) -> None:
        spend = self.steps.spend
        assert spend is not None
        head = await calls.find_head(FindHeadInput(self.steps.author()))
        links = [f"Expense: {API}/expenses/{spend.id}"]
        if spend.deal_id:
            links.append(f"Deal: {API}/deals/{spend.deal_id}")
        await calls.create_notification(
            CreateNotificationInput(
                idempotency_key=self.steps.key("paid/notify-head"),
                user_id=head.id,
                kind="expense.paid",
                title=f"Paid: {self.steps.what()}",
                body="\n".join(links),
                deal_id=spend.deal_id,
            )
        )

    async def _done(self, outcome: str, verdict: Verdict) -> SpendResult:
        await self.finish(outcome)
        return self.steps.result(outcome, verdict)

    def check_answer(self, task: OpenTask, answer: TaskAnswer) -> None:
        self.steps.check_answer(task)

    async def before_answer(self, task: OpenTask, answer: TaskAnswer) -> None:
        if task.spec.kind == PAY:
            await self.steps.record_payment(answer)
