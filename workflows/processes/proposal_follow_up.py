"""SM-1 Proposal follow-up: entering "Proposal sent" starts it (a stage rule).

The proposal file must be on the deal (field `proposal_file`; without it the manager gets
"attach the proposal" first) → the manager gets "call the client" with a deadline and
records the outcome: **agreed** → the deal moves to "Contract"; **refused** (a comment is
required) → the head of sales gets a notification with the proposal file and the comment;
**call back later** (a date is required) → a new call task on that date (a durable timer),
and so on until agreed or refused. Every call is kept (`details.calls`). The timeline
entries `proposal.sent`, `proposal.agreed` and `proposal.refused` feed the proposals report
(`GET /api/v1/reports/proposals`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.activities import calls
from workflows.kit import AnswerField, OpenTask, Process, TaskSpec, refuse
from workflows.kit import process as declare
from workflows.kit.params import param
from workflows.kit.stages import DealStages

with workflow.unsafe.imports_passed_through():
    from process_rules.approval_templates import ApproverRule
    from process_rules.proposals import call_back_problem, call_back_window
    from workflows.activities import approval_calls as ac
    from workflows.activities.approval_types import AttachFilesInput, ResolveApproversInput
    from workflows.activities.types import (
        CreateNotificationInput,
        DealInfo,
        FindHeadInput,
        GetDealInput,
        UpdateDealFieldsInput,
    )
    from workflows.kit.contracts import AnswerRefused, ProcessInput, TaskAnswer

PROCESS = "proposal_follow_up"
PROPOSAL_FIELD = "proposal_file"
CONTRACT = "Contract"
AGREED, REFUSED, CALL_BACK = "agreed", "refused", "call_back_later"


@dataclass
class ProposalFollowUpParams:
    call_within_days: int = param(help="days the manager has to call the client", default=2)


@dataclass
class CallRecord:
    call: int
    task_id: str
    by: str
    at: datetime
    outcome: str
    comment: str = ""
    call_on: str = ""


@dataclass
class ProposalFollowUpResult:
    deal_id: str
    outcome: str  # agreed | refused
    proposal_file_id: str
    calls: list[CallRecord] = field(default_factory=list)


@declare(PROCESS, params=ProposalFollowUpParams)
class ProposalFollowUp(Process):
    """SM-1: the manager calls the client about the proposal until it is agreed or refused."""

    initial_stage = "proposal"

    def setup(self) -> None:
        self.proposal_file_id = ""
        self.calls: list[CallRecord] = []

    @workflow.run
    async def run(self, inp: ProcessInput) -> ProposalFollowUpResult:
        params: ProposalFollowUpParams = self.params
        self.set_stage("proposal")
        deal = await calls.get_deal(GetDealInput(inp.deal_id))
        manager = deal.responsible_id
        self.proposal_file_id = await self._proposal_file(deal)
        await self.timeline(
            "sent", f"Proposal sent to the client (file {self.proposal_file_id})",
            kind="proposal.sent", manager_id=manager, file_id=self.proposal_file_id,
        )  # fmt: skip
        due = workflow.now() + timedelta(days=max(params.call_within_days, 0))
        while True:
            self.set_stage("call")
            answer = await self.answer(await self._call_task(deal, due))
            comment = str(answer.data.get("comment") or "")
            call_on = str(answer.data.get("call_on") or "")
            self.calls.append(
                CallRecord(
                    len(self.calls) + 1, answer.task_id, answer.actor_id,
                    answer.answered_at, answer.outcome, comment, call_on,
                )
            )  # fmt: skip
            if answer.outcome != CALL_BACK:
                break
            self.set_stage("call_back")
            await self.timeline("call_back", f"The client asks to call back on {call_on}")
            start, due = call_back_window(date.fromisoformat(call_on))
            if start > workflow.now():
                await workflow.sleep(start - workflow.now())

        if answer.outcome == AGREED:
            await self.timeline(
                "agreed", "The client agreed to the proposal", kind="proposal.agreed",
                manager_id=manager,
            )  # fmt: skip
            stages = DealStages(self)
            await stages.move_to(await stages.named(CONTRACT), "the client agreed")
        else:
            await self.timeline(
                "refused", f"The client refused the proposal: {comment}",
                kind="proposal.refused", manager_id=manager, reason=comment,
                file_id=self.proposal_file_id,
            )  # fmt: skip
            await self._tell_head_of_sales(deal, comment)
        self.set_stage(answer.outcome)
        await self.finish(answer.outcome)
        return ProposalFollowUpResult(
            deal.id, answer.outcome, self.proposal_file_id, list(self.calls)
        )

    def check_answer(self, task: OpenTask, answer: TaskAnswer) -> None:
        if task.spec.kind == f"{PROCESS}.call" and answer.outcome == CALL_BACK:
            problem = call_back_problem(
                str(answer.data.get("call_on") or ""), workflow.now().date()
            )
            if problem:
                raise refuse(problem, AnswerRefused.INVALID_DATA)

    def details(self) -> dict[str, Any]:
        return {"proposal_file_id": self.proposal_file_id, "calls": list(self.calls)}

    # ---- steps ----
    async def _proposal_file(self, deal: DealInfo) -> str:
        """The deal's proposal file; without one the process does not go on until the
        manager attaches it."""
        on_deal = str(deal.fields.get(PROPOSAL_FIELD) or "")
        if on_deal:
            return on_deal
        task = await self.tasks.start(
            TaskSpec(
                step="attach",
                kind=f"{PROCESS}.attach",
                assignee_id=deal.responsible_id,
                title=f"Attach the proposal sent to the client: {deal.title}",
                description="The follow-up waits for the proposal file (upload it to the deal).",
                outcomes=["attached"],
                fields=[AnswerField(PROPOSAL_FIELD, "file", label="the proposal")],
            )
        )
        answer = await self.answer(task)
        file_id = str(answer.data[PROPOSAL_FIELD])
        await ac.attach_files(AttachFilesInput(deal.id, [file_id], "task", task.task_id))
        fields = (await DealStages(self).layout()).fields
        if any(f.code == PROPOSAL_FIELD for f in fields):
            await calls.update_deal_fields(
                UpdateDealFieldsInput(deal.id, {PROPOSAL_FIELD: file_id})
            )
        return file_id

    async def _call_task(self, deal: DealInfo, due: datetime) -> OpenTask:
        return await self.tasks.start(
            TaskSpec(
                step="call",
                kind=f"{PROCESS}.call",
                assignee_id=deal.responsible_id,
                title=f"Call the client about the proposal: {deal.title}",
                description=(
                    f"Proposal: file {self.proposal_file_id}. Agreed, refused (say why), or "
                    "call back later (the date)."
                ),
                deadline=due,
                outcomes=[AGREED, REFUSED, CALL_BACK],
                fields=[
                    AnswerField("call_on", "date", required_for=[CALL_BACK], label="call back on"),
                    AnswerField("comment", "text", required=False, label="what the client said"),
                ],
                comment_outcomes=[REFUSED],
            )
        )

    async def _tell_head_of_sales(self, deal: DealInfo, comment: str) -> None:
        head = await self._head_of_sales(deal.responsible_id)
        if not head:
            await self.timeline("no_head", "Nobody to tell of the refusal: no head of sales")
            return
        await calls.create_notification(
            CreateNotificationInput(
                idempotency_key=self.key("refused-notice"),
                user_id=head,
                kind=f"{PROCESS}.refused",
                title=f"Proposal refused: {deal.title}",
                body=(
                    f"The client refused the proposal. Reason: {comment}. Proposal: "
                    f"/api/v1/files/{self.proposal_file_id}/content"
                ),
                deal_id=deal.id,
            )
        )

    async def _head_of_sales(self, manager: str) -> str:
        """The manager's head, else the first user with the role head_of_sales ("" if none)."""
        try:
            return (await calls.find_head(FindHeadInput(manager))).id
        except ActivityError:
            pass
        try:
            found = await ac.resolve_approvers(
                ResolveApproversInput(
                    self.input.deal_id, manager, [ApproverRule("role", role="head_of_sales")]
                )
            )
        except ActivityError:
            return ""
        return found[0].user_id if found else ""
