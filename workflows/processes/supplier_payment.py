"""SM-6 Supplier payment: the manager's payment request, once submitted, goes to the CEO
(the approval chain, template `supplier_payment`); approved, an accountant pays it (the
answer to "prepare payment" records the payment in finance, which adds it to the deal's
costs) and then records the closing documents; rejected, it goes back to the manager with
the comment. Started by the submission (`POST /api/v1/payment-requests/{id}/submit`)."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.kit import AnswerField, OpenTask, Process, TaskSpec, refuse
from workflows.kit import process as declare
from workflows.kit.process import FINISH_CLEARS_ASSIGNEE

with workflow.unsafe.imports_passed_through():
    # Imported here so the sandbox resolves the chain result's hints through its module.
    from workflows import approval_chain_types  # noqa: F401
    from workflows.activities import finance_calls as fc
    from workflows.activities.finance_types import CloseSpendInput
    from workflows.kit.contracts import AnswerRefused, ProcessInput, TaskAnswer
    from workflows.spend_steps import (
        APPROVE,
        SpendParams,
        SpendResult,
        SpendSteps,
        Verdict,
        finance_refusal,
    )

PROCESS = "supplier_payment"
KIND = "supplier_payment"
TEMPLATE = "supplier_payment"
PAY, CLOSE = f"{KIND}.pay", f"{KIND}.close"
__all__ = ["PROCESS", "SupplierPayment"]


@declare(PROCESS, params=SpendParams, starts="spend", spend_kind=KIND)
class SupplierPayment(Process):
    """SM-6: a payment request to a supplier, approved, paid and closed with documents."""

    kit_patches = frozenset({FINISH_CLEARS_ASSIGNEE})

    def setup(self) -> None:
        self.steps = SpendSteps(self, KIND, "Payment request", "/api/v1/payment-requests")

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
        close = await self.tasks.start(
            TaskSpec(
                step="close",
                kind=CLOSE,
                assignee_id=paid.actor_id,
                title=f"Closing documents: {steps.what()}",
                description="Record the closing documents (acts, invoices, waybills).",
                outcomes=["closed"],
                fields=[AnswerField("documents", "list", label="acts, invoices, waybills")],
            )
        )
        await self.answer(close)
        self.set_stage("closed")
        return await self._done("closed", verdict)

    async def _done(self, outcome: str, verdict: Verdict) -> SpendResult:
        await self.finish(outcome)
        return self.steps.result(outcome, verdict)

    def check_answer(self, task: OpenTask, answer: TaskAnswer) -> None:
        self.steps.check_answer(task)
        if task.spec.kind == CLOSE:
            documents(answer)

    async def before_answer(self, task: OpenTask, answer: TaskAnswer) -> None:
        if task.spec.kind == PAY:
            await self.steps.record_payment(answer)
        elif task.spec.kind == CLOSE:
            try:
                await fc.close_spend(
                    CloseSpendInput(self.steps.spend_id, answer.actor_id, documents(answer))
                )
            except ActivityError as exc:
                raise finance_refusal(exc) from exc


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
