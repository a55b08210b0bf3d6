"""The promo project's money (BT-2's invoice, BT-3's prepayment, BT-5's extra payment), on
the process that owns it: real invoices in finance, requested by the manager's answer and
issued by the accountant's (finance checks each one's rights; a refusal refuses the
answer), and waits for payments that finance's events end (kit/invoices.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.kit import AnswerField, OpenTask, TaskSpec, refuse
from workflows.kit.invoices import positive

if TYPE_CHECKING:
    from workflows.processes.promo_project import PromoProject

with workflow.unsafe.imports_passed_through():
    from workflows.activities import finance_calls as fc
    from workflows.activities.finance_types import (
        InvoiceLineInput,
        IssueInvoiceInput,
        RequestInvoiceInput,
    )
    from workflows.kit.contracts import AnswerRefused, TaskAnswer
    from workflows.spend_steps import finance_refusal

K = "promo_project"
REQUEST, ISSUE, PREPAYMENT = f"{K}.invoice.request", f"{K}.invoice.issue", f"{K}.prepayment"
HANDOVER, EXTRA_ISSUE = f"{K}.handover", f"{K}.extra_payment.issue"
API = "/api/v1"


class ProjectMoney:
    def __init__(self, process: PromoProject) -> None:
        self.process = process
        self.invoice_id = ""
        self.extra_invoice_id = ""
        self.prepayment_registered = False
        self.extra_paid = False
        self._counterparty = ""
        self._currency = ""
        self._default_file = ""

    def details(self) -> dict[str, Any]:
        return {
            "invoice_id": self.invoice_id,
            "prepayment_registered": self.prepayment_registered,
            "extra_invoice_id": self.extra_invoice_id,
            "extra_paid": self.extra_paid,
        }

    # ---- BT-2: the invoice cycle's two ends ----
    async def request_step(self, manager: str) -> None:
        p = self.process
        await p.answer(
            await p.tasks.start(
                TaskSpec(
                    step="invoice/request",
                    kind=REQUEST,
                    assignee_id=manager,
                    title=f"Request the invoice: {p.deal.title}",
                    description="The client, the amount and the currency the invoice is for.",
                    outcomes=["requested"],
                    fields=[
                        AnswerField("counterparty", label="the client"),
                        AnswerField("amount", "number"),
                        AnswerField("currency", label="e.g. RUB"),
                        AnswerField("due_date", "date", required=False),
                    ],
                )
            )
        )
        await p.timeline(
            "invoice/requested",
            f"Invoice {self.invoice_id} requested in finance",
            invoice_id=self.invoice_id,
        )

    async def issue_step(self, accountant: str, approved_files: list[str]) -> None:
        """The accountant issues the invoice the client agreed to (its file by default)."""
        self._default_file = approved_files[0] if approved_files else ""
        p = self.process
        await p.answer(await p.tasks.start(self._issue_spec(ISSUE, accountant, self.invoice_id)))
        await p.timeline(
            "invoice/issued", f"Invoice {self.invoice_id} issued", invoice_id=self.invoice_id
        )
        p.set_stage("invoice_issued")

    # ---- BT-3: production waits for the prepayment ----
    async def wait_prepayment(self, accountant: str) -> None:
        p, link = self.process, f"Invoice: {API}/invoices/{self.invoice_id}"
        task = await p.tasks.start(
            TaskSpec(
                step="prepayment",
                kind=PREPAYMENT,
                assignee_id=accountant,
                title=f"Register the client's prepayment: {p.deal.title}",
                description=f"Production waits until it is registered. {link}",
                outcomes=["registered"],
                awaited=False,
            )
        )
        await p.notify("prepayment", accountant, "prepayment_due", task.spec.title, link)
        await p.invoices.wait_paid(self.invoice_id)
        self.prepayment_registered = True
        await p.tasks.cancel(task, "the prepayment is registered in finance")
        text = f"Prepayment registered on invoice {self.invoice_id}: production may start"
        await p.notify("prepaid", p.deal.responsible_id, "prepaid", text, link)
        await p.timeline("prepayment", text, invoice_id=self.invoice_id)

    # ---- BT-5: the handover and its extra payment ----
    def handover_spec(self, manager: str) -> TaskSpec:
        return TaskSpec(
            step="handover",
            kind=HANDOVER,
            assignee_id=manager,
            title=f"Hand the project over to the client: {self.process.deal.title}",
            description="Accepted (and whether an extra payment is due), or not accepted "
            "with what to rework in the comment.",
            outcomes=["accepted", "not_accepted"],
            fields=[
                AnswerField("extra_payment", "boolean", required_for=["accepted"]),
                AnswerField("extra_amount", "number", required=False),
                AnswerField("comment", "text", required=False),
            ],
            comment_outcomes=["not_accepted"],
        )

    async def extra_payment_steps(self, accountant: str) -> None:
        """The accountant issues the extra invoice; the process waits until it is paid."""
        p, link = self.process, f"Invoice: {API}/invoices/{self.extra_invoice_id}"
        p.set_stage("extra_payment")
        await p.answer(
            await p.tasks.start(self._issue_spec(EXTRA_ISSUE, accountant, self.extra_invoice_id))
        )
        await p.timeline("extra/issued", f"Extra-payment invoice {self.extra_invoice_id} issued")
        await p.invoices.wait_paid(self.extra_invoice_id, fully=True)
        self.extra_paid = True
        text = f"The extra payment is in: invoice {self.extra_invoice_id} fully paid"
        await p.notify("extra/paid", p.deal.responsible_id, "extra_paid", text, link)
        await p.timeline("extra/paid", text, invoice_id=self.extra_invoice_id)

    # ---- answers ----
    def check_answer(self, task: OpenTask, answer: TaskAnswer) -> None:
        if task.spec.kind == HANDOVER and answer.outcome == "accepted":
            if answer.data.get("extra_payment") and not positive(answer.data.get("extra_amount")):
                raise refuse(
                    "'extra_amount' must be more than 0 when an extra payment is due",
                    AnswerRefused.INVALID_DATA,
                )

    async def before_answer(self, task: OpenTask, answer: TaskAnswer) -> None:
        kind, data = task.spec.kind, answer.data
        if kind == REQUEST:
            self._counterparty, self._currency = str(data["counterparty"]), str(data["currency"])
            self.invoice_id = await self._request(task, answer, self.process.deal.title, "amount")
        elif kind in (ISSUE, EXTRA_ISSUE):
            await self._issue(task, answer)
        elif kind == HANDOVER and answer.outcome == "accepted" and data.get("extra_payment"):
            what = f"Extra payment: {self.process.deal.title}"
            self.extra_invoice_id = await self._request(task, answer, what, "extra_amount")

    async def _request(self, task: OpenTask, answer: TaskAnswer, what: str, amount: str) -> str:
        """A draft in finance as the manager who answered; keyed by the task, so a retried
        answer finds the draft made first."""
        try:
            made = await fc.request_invoice(
                RequestInvoiceInput(
                    idempotency_key=f"{workflow.info().workflow_id}/invoice/{task.task_id}",
                    deal_id=self.process.deal.id,
                    actor_id=answer.actor_id,
                    counterparty=self._counterparty,
                    currency=self._currency,
                    lines=[InvoiceLineInput(what, "1", str(answer.data[amount]))],
                    due_date=str(answer.data.get("due_date") or ""),
                )
            )
        except ActivityError as exc:
            raise finance_refusal(exc) from exc
        return made.id

    async def _issue(self, task: OpenTask, answer: TaskAnswer) -> None:
        invoice_id = self.invoice_id if task.spec.kind == ISSUE else self.extra_invoice_id
        file_id = str(answer.data.get("file_id") or self._default_file)
        try:
            await fc.issue_invoice(
                IssueInvoiceInput(
                    invoice_id=invoice_id,
                    actor_id=answer.actor_id,
                    number=str(answer.data["number"]),
                    due_date=str(answer.data["due_date"]),
                    file=f"{API}/files/{file_id}" if file_id else "",  # none: finance says
                )
            )
        except ActivityError as exc:
            raise finance_refusal(exc) from exc

    def _issue_spec(self, kind: str, accountant: str, invoice_id: str) -> TaskSpec:
        extra = kind == EXTRA_ISSUE
        noun = "the extra-payment invoice" if extra else "the invoice the client agreed to"
        return TaskSpec(
            step=kind.removeprefix(f"{K}."),
            kind=kind,
            assignee_id=accountant,
            title=f"Issue {noun}: {self.process.deal.title}",
            description=f"Invoice: {API}/invoices/{invoice_id}. Its number, due date"
            + (" and file." if extra else " (the agreed file unless you attach another)."),
            outcomes=["issued"],
            fields=[
                AnswerField("number"),
                AnswerField("due_date", "date"),
                AnswerField("file_id", "file", required=extra),
            ],
            watcher_ids=[self.process.deal.responsible_id],
        )
