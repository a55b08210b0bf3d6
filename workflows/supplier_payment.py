"""SM-6 Supplier payment: the manager's payment request, once submitted, goes to the CEO
(the approval chain, template `supplier_payment`); approved, an accountant pays it (the
answer to "prepare payment" records the payment in finance, which adds it to the deal's
costs) and then records the closing documents; rejected, it goes back to the manager with
the comment. Started by `POST /api/v1/payment-requests/{id}/submit`."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.human_task import TaskSpec, refuse

with workflow.unsafe.imports_passed_through():
    # Imported here so the sandbox resolves the chain result's hints through its module.
    from workflows import approval_chain_types  # noqa: F401
    from workflows.activities import finance_calls as fc
    from workflows.activities.finance_types import CloseSpendInput
    from workflows.contracts import (
        COMPLETE_TASK_UPDATE,
        STATE_QUERY,
        AnswerRefused,
        ProcessInput,
        TaskAnswer,
        TaskAnswerResult,
    )
    from workflows.spend_steps import (
        APPROVE,
        SpendResult,
        SpendState,
        SpendSteps,
        Verdict,
        finance_refusal,
        parse_params,
    )

PROCESS = "supplier_payment"
KIND = "supplier_payment"
TEMPLATE = "supplier_payment"
PAY, CLOSE = f"{KIND}.pay", f"{KIND}.close"
__all__ = ["PROCESS", "SupplierPayment", "parse_params"]


@workflow.defn(name=PROCESS)
class SupplierPayment:
    @workflow.init
    def __init__(self, inp: ProcessInput) -> None:
        self.steps = SpendSteps(inp, KIND, "Payment request", "/api/v1/payment-requests")

    @workflow.run
    async def run(self, inp: ProcessInput) -> SpendResult:
        steps = self.steps
        await steps.load()
        verdict = await steps.approval(TEMPLATE)
        await steps.decide(verdict)
        if verdict.outcome != APPROVE:
            await steps.back_to_author(verdict)
            return await self._done("rejected", verdict)
        paid = await steps.payment()
        close = await steps.tasks.start(
            TaskSpec(
                step="close",
                kind=CLOSE,
                assignee_id=paid.actor_id,
                title=f"Closing documents: {steps.what()}",
                description="Record the closing documents (acts, invoices, waybills).",
                outcomes=["closed"],
            )
        )
        await steps.answer_of(close)
        steps.set_stage("closed")
        return await self._done("closed", verdict)

    async def _done(self, outcome: str, verdict: Verdict) -> SpendResult:
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.steps.result(outcome, verdict)

    @workflow.update(name=COMPLETE_TASK_UPDATE)
    async def complete_task(self, answer: TaskAnswer) -> TaskAnswerResult:
        task = self._checked(answer)
        if task == PAY:
            await self.steps.record_payment(answer)
        elif task == CLOSE:
            try:
                await fc.close_spend(
                    CloseSpendInput(self.steps.spend_id, answer.actor_id, documents(answer))
                )
            except ActivityError as exc:
                raise finance_refusal(exc) from exc
        await self.steps.tasks.complete(answer)
        return TaskAnswerResult(answer.task_id, answer.outcome, self.steps.stage)

    @complete_task.validator
    def validate_answer(self, answer: TaskAnswer) -> None:
        self._checked(answer)

    def _checked(self, answer: TaskAnswer) -> str:
        """The kind of the task answered; refuses an answer that may not be recorded."""
        task = self.steps.validate(answer)
        if task.spec.kind == CLOSE:
            documents(answer)
        return task.spec.kind

    @workflow.query(name=STATE_QUERY)
    def state(self) -> SpendState:
        return self.steps.state()


def documents(answer: TaskAnswer) -> list[str]:
    """The closing documents of the answer: a non-empty list of names or file ids."""
    raw = answer.data.get("documents")
    docs = [str(d).strip() for d in raw] if isinstance(raw, list) else []
    if not docs or not all(docs):
        raise refuse(
            "documents: list the closing documents (acts, invoices, waybills)",
            AnswerRefused.INVALID_DATA,
        )
    return docs
