"""What the two spend processes share (SM-6 supplier payments, SN-6 expenses), from the
submission on: the approval, its outcome recorded in finance, the author's task after a
rejection, the accountants' "prepare payment" task whose answer records the payment.

The approval is the generic chain (`end_on_reject`) when the spend is linked to a deal;
approval requests belong to a deal, so a spend without one is approved by the head of its
author's department through a plain human task. A rejection ends the run: the author gets a
task with the comment and resubmits (a new run; the earlier one stays in the history).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.activities import calls
from workflows.kit import AnswerField, AnswerRecord, OpenTask, TaskSpec, refuse
from workflows.kit.params import RecordId, param

if TYPE_CHECKING:
    from workflows.kit import Process

with workflow.unsafe.imports_passed_through():
    from process_rules.approval_templates import ApproverRule
    from workflows.activities import approval_calls as ac
    from workflows.activities import finance_calls as fc
    from workflows.activities.approval_types import ResolveApproversInput
    from workflows.activities.finance_types import (
        DecideSpendInput,
        PaySpendInput,
        SpendInfo,
        SpendRefInput,
    )
    from workflows.activities.types import CreateTaskInput, FindHeadInput
    from workflows.approval_chain_types import ChainInput
    from workflows.kit.contracts import AnswerRefused, TaskAnswer
    from workflows.processes.approval_chain import run_chain

APPROVE, REJECT = "approve", "reject"
ACCOUNTANT_ROLE = "accountant"
PAY_FIELDS = [AnswerField("reference", required=False), AnswerField("paid_on", "date", False)]
# A finance refusal of the accountant's answer -> how the gateway answers it.
_REFUSALS = {"PermissionDenied": AnswerRefused.WRONG_ACTOR, "Conflict": AnswerRefused.TASK_NOT_OPEN}


@dataclass
class SpendParams:
    spend_id: RecordId = param(help="the id of the submitted spend")


@dataclass
class Verdict:
    outcome: str  # approve | reject
    comment: str
    decided_by: str
    request_id: str = ""  # the approval request (chain only)


@dataclass
class SpendResult:
    spend_id: str
    outcome: str  # paid | closed | rejected
    decided_by: str
    comment: str = ""
    payment_id: str = ""
    approval_request_id: str = ""
    answers: list[AnswerRecord] = field(default_factory=list)


class SpendSteps:
    """The steps both spend processes share, on the process that owns them (its tasks, its
    stage, its keys)."""

    def __init__(self, process: Process, kind: str, noun: str, path: str) -> None:
        self.process, self.kind, self.noun, self.path = process, kind, noun, path
        self.inp = process.input
        self.tasks = process.tasks
        self.spend: SpendInfo | None = None
        self.payment_id = ""

    # ---- start ----
    async def load(self) -> SpendInfo:
        """The submitted spend the run is about; InvalidParams if it does not fit."""
        spend_id = self.process.params.spend_id
        spend = await fc.get_spend(SpendRefInput(self.kind, spend_id))
        if spend.deal_id != self.inp.deal_id:
            raise ApplicationError(
                f"{self.noun} {spend_id} is not linked to deal {self.inp.deal_id or '(none)'}",
                type="InvalidParams",
                non_retryable=True,
            )
        self.spend = spend
        return spend

    def what(self) -> str:
        s = self._spend()
        to = f" to {s.counterparty}" if s.counterparty else ""
        return f"{self.noun} {s.id}{to}: {s.purpose} — {s.amount} {s.currency}"

    @property
    def spend_id(self) -> str:
        return self._spend().id

    def author(self) -> str:
        return self._spend().author_id or self.inp.initiator_id

    # ---- approval ----
    async def approval(self, template: str) -> Verdict:
        self.set_stage("in_approval")
        s = self._spend()
        if s.deal_id:
            chain = await run_chain(
                ChainInput(
                    deal_id=s.deal_id,
                    pipeline_id=self.inp.pipeline_id,
                    initiator_id=self.inp.initiator_id,
                    template_code=template,
                    title=f"Approve {self.what()}",
                    end_on_reject=True,
                )
            )
            outcome = APPROVE if chain.outcome == "approved" else REJECT
            deciders = [d.actor_id for d in chain.decisions if d.outcome == outcome]
            return Verdict(
                outcome, chain.reason, deciders[-1] if deciders else "", chain.request_id
            )
        head = await calls.find_head(FindHeadInput(self.author()))
        task = await self.tasks.start(
            TaskSpec(
                step="approval",
                kind=f"{self.kind}.approval",
                assignee_id=head.id,
                title=f"Approve {self.what()}",
                description="Approve, or reject with a comment for the author.",
                outcomes=[APPROVE, REJECT],
                fields=[AnswerField("comment", "text", required=False)],
                comment_outcomes=[REJECT],
            )
        )
        answer = await self.process.answer(task)
        comment = str(answer.data.get("comment") or "").strip()
        return Verdict(answer.outcome, comment, answer.actor_id)

    async def decide(self, verdict: Verdict) -> None:
        """The approval's outcome in finance (as the system, naming who decided)."""
        s = self._spend()
        await fc.decide_spend(
            DecideSpendInput(self.kind, s.id, verdict.outcome, verdict.comment, verdict.decided_by)
        )

    async def back_to_author(self, verdict: Verdict) -> None:
        """The author's task with the comment; nobody waits on it: resubmitting starts a
        new run."""
        self.set_stage("rejected")
        s = self._spend()
        await calls.create_task(
            CreateTaskInput(
                idempotency_key=self.key("rejected/task"),
                workflow_id="",
                deal_id=s.deal_id,
                kind=f"{self.kind}.rejected",
                assignee_id=self.author(),
                title=f"Rejected: {self.what()} — {verdict.comment}",
                description=f"Comment: {verdict.comment}. Change it and submit it again "
                f"(POST {self.path}/{s.id}/submit), or withdraw it ({self.path}/{s.id}/cancel).",
                outcomes=["done"],
            )
        )

    # ---- payment ----
    async def payment(self) -> AnswerRecord:
        """Every accountant gets "prepare payment"; the first answer records the payment
        (finance checks that person's rights), the other tasks are cancelled."""
        self.set_stage("approved")
        s = self._spend()
        accountants = await ac.resolve_approvers(
            ResolveApproversInput(
                s.deal_id, self.author(), [ApproverRule("role", role=ACCOUNTANT_ROLE)]
            )
        )
        opened: list[OpenTask] = []
        for a in accountants:
            opened.append(
                await self.tasks.start(
                    TaskSpec(
                        step=f"pay/{a.user_id}",
                        kind=f"{self.kind}.pay",
                        assignee_id=a.stand_in_id or a.user_id,
                        also_answered_by=[a.user_id] if a.stand_in_id else [],
                        title=f"Prepare payment: {self.what()}, due {s.due_date}",
                        description="Pay it and record the payment (reference, paid_on).",
                        outcomes=["paid"],
                        fields=list(PAY_FIELDS),
                    )
                )
            )
        await workflow.wait_condition(lambda: self._paid() is not None)
        answer = self._paid()
        assert answer is not None
        for task in opened:
            await self.tasks.cancel(task, f"paid by user {answer.actor_id}")
        self.set_stage("paid")
        return answer

    # ---- the answer of a person (the workflow's Update handler calls these) ----
    def check_answer(self, task: OpenTask) -> None:
        """The one answer the kit cannot refuse by itself: a second payment."""
        if task.spec.kind.endswith(".pay") and self._paid() is not None:
            raise refuse("the payment is recorded already", AnswerRefused.TASK_NOT_OPEN)

    async def record_payment(self, answer: TaskAnswer) -> None:
        """Pay in finance as the person who answered; a refusal refuses the answer."""
        s = self._spend()
        try:
            payment = await fc.pay_spend(
                PaySpendInput(
                    idempotency_key=self.key("pay"),
                    kind=self.kind,
                    spend_id=s.id,
                    actor_id=answer.actor_id,
                    reference=str(answer.data.get("reference") or ""),
                    paid_on=str(answer.data.get("paid_on") or ""),
                )
            )
        except ActivityError as exc:
            raise finance_refusal(exc) from exc
        self.payment_id = payment.id

    # ---- helpers ----
    def key(self, step: str) -> str:
        return self.process.key(step)

    def set_stage(self, stage: str) -> None:
        self.process.set_stage(stage)

    def result(self, outcome: str, verdict: Verdict) -> SpendResult:
        return SpendResult(
            self._spend().id,
            outcome,
            verdict.decided_by,
            verdict.comment,
            self.payment_id,
            verdict.request_id,
            list(self.tasks.answers),
        )

    def _paid(self) -> AnswerRecord | None:
        return next((a for a in self.tasks.answers if a.kind == f"{self.kind}.pay"), None)

    def _spend(self) -> SpendInfo:
        assert self.spend is not None, "load() first"
        return self.spend


def finance_refusal(exc: ActivityError) -> ApplicationError:
    """The refusal of an answer whose change finance refused (rights, state, data)."""
    cause = exc.cause
    kind = cause.type if isinstance(cause, ApplicationError) else ""
    message = cause.message if isinstance(cause, ApplicationError) else str(exc)
    return refuse(message, _REFUSALS.get(kind or "", AnswerRefused.INVALID_DATA))
