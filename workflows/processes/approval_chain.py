"""The approval chain: one generic child workflow any process starts with a template code.

Each round walks the template's steps in order. A step gives every approver it resolves to
(a user, a role, the initiator's head, a look-up in an admin list; a substitute while the
approver is absent) a task; decisions arrive as the `complete_task` Update, whose validator
refuses a wrong approver, a rejection without a comment and fields the step may not change
or that do not fit the deal's field definitions. Approved field changes land on the deal.
The step's quorum settles it; a deadline sends a reminder and then tells the approver's head.
A rejection closes the round, moves the deal back (if the template says so) and gives the
initiator a task: restart (a new round; earlier ones stay in the history) or lose the deal
with a reason. A full approval runs the template's final actions.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.activities import calls
from workflows.approval_chain_types import (
    Ballot,
    ChainInput,
    ChainResult,
    ChainState,
    DecisionRecord,
)
from workflows.kit import AnswerField, DeadlineWatch, OpenTask, Process, TaskSpec, refuse
from workflows.kit import process as declare
from workflows.kit.children import run_child

with workflow.unsafe.imports_passed_through():
    from process_rules.approval_templates import ChainTemplate, StepTemplate
    from process_rules.quorum import step_outcome
    from workflows import approval_effects as fx
    from workflows import approval_rules as rules
    from workflows.activities import approval_calls as ac
    from workflows.activities.approval_types import (
        Approver,
        AssignmentInfo,
        AssignStepInput,
        AttachFilesInput,
        CheckFilesInput,
        CloseRoundInput,
        DealRefInput,
        GetTemplateInput,
        MoveDealInput,
        OpenRequestInput,
        PipelineLayout,
        ResolveApproversInput,
        RoundInput,
    )
    from workflows.activities.types import (
        DealInfo,
        GetDealInput,
        UpdateDealFieldsInput,
    )
    from workflows.kit.contracts import AnswerRefused, TaskAnswer

PROCESS = "approval_chain"
__all__ = [
    "ApprovalChain",
    "ChainInput",
    "ChainResult",
    "ChainState",
    "DecisionRecord",
    "run_chain",
]
APPROVED, LOST, REJECTED = "approved", "lost", "rejected"


@declare(PROCESS, starts="child")
class ApprovalChain(Process):
    """The approval chain of a template, run as a child of the process that needs it."""

    initial_stage = "starting"

    @workflow.init
    def __init__(self, inp: ChainInput) -> None:
        self._begin(inp)
        self._input = inp

    def setup(self) -> None:
        inp = self.input
        self._template = ChainTemplate(code=inp.template_code, name="", steps=[])
        self._layout = PipelineLayout(id=inp.pipeline_id)
        self._fields: dict[str, Any] = {}
        self._request_id = ""
        self._round = 0
        self._ballots: dict[str, Ballot] = {}  # task id -> ballot
        self._votes: dict[str, str] = {}  # approver id -> outcome, in the current step
        self.decisions: list[DecisionRecord] = []
        self._moves: dict[str, str] = {}  # the initiator's answer -> where the deal goes

    @workflow.run
    async def run(self, inp: ChainInput) -> ChainResult:
        self._template = template = await ac.get_approval_template(
            GetTemplateInput(inp.template_code)
        )
        deal = await self._load_deal()
        self._layout = await ac.get_pipeline_layout(DealRefInput(inp.deal_id))
        chain_stage, return_stage = deal.stage_id, ""
        if template.on_reject.return_to_previous_stage:
            return_stage = inp.return_stage_id or await ac.previous_stage(DealRefInput(deal.id))
        opened = await ac.open_request(
            OpenRequestInput(
                deal_id=deal.id,
                template_code=template.code,
                workflow_id=workflow.info().workflow_id,
                initiator_id=inp.initiator_id,
                title=inp.title or f"{template.name}: {deal.title}",
                contract_id=inp.contract_id,
            )
        )
        self._request_id = opened.id
        await self._timeline("started", f"Approval '{template.name}' started")
        while True:
            self._round += 1
            await ac.start_round(RoundInput(self._request_id, self._round))
            rejected: StepTemplate | None = None
            for index, step in enumerate(template.steps):
                if await self._run_step(index, step, deal) == "rejected":
                    rejected = step
                    break
            if rejected is None:
                await self._close(APPROVED, APPROVED)
                self.set_stage(APPROVED)
                await fx.final_actions(template, deal, inp.initiator_id, self.key)
                await self._timeline("approved", f"Approval '{template.name}' passed")
                return await self._result(APPROVED)
            await self._close("rejected", "rejected" if inp.end_on_reject else "returned")
            comment = "; ".join(
                d.comment
                for d in self.decisions
                if d.round == self._round and d.outcome == rules.REJECT
            )
            if return_stage:
                note = f"Rejected at '{rejected.name}': {comment}"
                await ac.move_deal(MoveDealInput(deal.id, return_stage, note))
            if inp.end_on_reject:
                await self._timeline("rejected", f"Approval '{template.name}' rejected: {comment}")
                return await self._result(REJECTED, comment)
            # The answer's handler has moved the deal (back to approval, or to lost).
            self._moves = {rules.RESTART: chain_stage if return_stage else ""}
            self._moves[rules.LOSE] = self._layout.lost_stage()
            answer = await self._return_to_initiator(deal, rejected, comment)
            if answer.outcome == rules.LOSE:
                reason = rules.check_return_answer(answer.outcome, answer.data, True)
                await self._close("rejected", "rejected")
                await self._timeline("lost", f"Approval '{template.name}' given up: {reason}")
                return await self._result(LOST, reason)
            deal = await self._load_deal()  # the initiator may have set new terms
            await self._timeline(f"r{self._round + 1}", f"Resubmitted: round {self._round + 1}")

    # ---- a person's answer: an approver's decision, or the initiator's after a rejection ----
    def check_answer(self, task: OpenTask, answer: TaskAnswer) -> None:
        try:
            if answer.task_id in self._ballots:
                self._changes(
                    self._template.steps[self._ballots[answer.task_id].step_index], answer
                )
            else:
                allow = self._template.on_reject.allow_lose
                rules.check_return_answer(answer.outcome, answer.data, allow)
        except rules.DecisionRefused as exc:
            raise refuse(str(exc), AnswerRefused.INVALID_DATA) from None

    async def before_answer(self, task: OpenTask, answer: TaskAnswer) -> None:
        ballot = self._ballots.get(answer.task_id)
        if ballot is None:
            await self._move_for(answer)
            return
        data = rules.decision_data(answer.data)
        if data.file_ids and answer.outcome == rules.APPROVE:
            try:
                await ac.check_files(CheckFilesInput(self._input.deal_id, data.file_ids))
            except ActivityError as exc:
                message = str(exc.cause.message if exc.cause else exc)  # type: ignore[attr-defined]
                raise refuse(message, AnswerRefused.INVALID_DATA) from exc

    async def after_answer(self, task: OpenTask, answer: TaskAnswer) -> None:
        ballot = self._ballots.get(answer.task_id)
        if ballot is None:
            await self._record(answer, "return", self._input.initiator_id, {}, {})
            return
        step = self._template.steps[ballot.step_index]
        data = rules.decision_data(answer.data)
        changes = self._changes(step, answer)
        before = {code: self._fields.get(code) for code in changes}
        if changes:
            await calls.update_deal_fields(UpdateDealFieldsInput(self._input.deal_id, changes))
            self._fields.update(changes)
        await self._record(answer, step.code, ballot.approver_id, before, changes)
        if data.file_ids:
            decision_id = self.decisions[-1].id
            await ac.attach_files(
                AttachFilesInput(self._input.deal_id, data.file_ids, "decision", decision_id)
            )
        self._votes[ballot.approver_id] = answer.outcome
        verb = "approved" if answer.outcome == rules.APPROVE else "rejected"
        text = f"{step.name}: {verb}" + (f" — {data.comment}" if data.comment else "")
        if changes:
            text += "; changed " + ", ".join(f"{k}: {before[k]} → {v}" for k, v in changes.items())
        await self._timeline(f"r{self._round}/{step.code}/{ballot.approver_id}", text)

    async def _move_for(self, answer: TaskAnswer) -> None:
        """Restart moves the deal back to approval, lose to the lost stage, before the answer
        is taken: a move the deal's stage rules refuse (a required field emptied meanwhile)
        refuses the answer, and the initiator fixes the deal and answers again."""
        stage = self._moves.get(answer.outcome, "")
        if not stage:
            return
        note = "Resubmitted"
        if answer.outcome == rules.LOSE:
            note = rules.check_return_answer(answer.outcome, answer.data, True)
        try:
            await ac.move_deal(MoveDealInput(self._input.deal_id, stage, note), quick=True)
        except ActivityError as exc:
            message = str(exc.cause.message if exc.cause else exc)  # type: ignore[attr-defined]
            raise refuse(f"the deal cannot move: {message}", AnswerRefused.INVALID_DATA) from exc

    def _changes(self, step: StepTemplate, answer: TaskAnswer) -> dict[str, Any]:
        data = rules.decision_data(answer.data)
        return rules.check_decision(step, self._layout.fields, answer.outcome, data, self._fields)

    def snapshot(self) -> ChainState:
        return ChainState(
            self._request_id, self._round, self.stage, list(self.tasks.open), self.decisions
        )

    # ---- steps ----
    async def _run_step(self, index: int, step: StepTemplate, deal: DealInfo) -> str:
        approvers = await ac.resolve_approvers(
            ResolveApproversInput(deal.id, self._input.initiator_id, step.approvers, self._fields)
        )
        due = None
        if step.deadline_hours:
            due = workflow.now() + timedelta(hours=step.deadline_hours)
        self.set_stage(step.code)
        self._votes = {}
        opened: list[tuple[Approver, OpenTask]] = []
        for approver in approvers:
            task = await self.tasks.start(
                TaskSpec(
                    step=f"r{self._round}/{step.code}/{approver.user_id}",
                    kind=f"approval.{step.code}",
                    assignee_id=approver.stand_in_id or approver.user_id,
                    also_answered_by=[approver.user_id] if approver.stand_in_id else [],
                    title=f"Approve: {deal.title} — {step.name}",
                    description=fx.describe(self._template.name, self._round, step, approver),
                    outcomes=[rules.APPROVE, rules.REJECT],
                    deadline=due,
                )
            )
            self._ballots[task.task_id] = Ballot(index, approver.user_id)
            opened.append((approver, task))
        await self._assign(index, step, [(a, t, "open") for a, t in opened], due)
        outcome = await self._settled(step, [a for a, _ in opened], due)
        left = [(a, t) for a, t in opened if t.task_id in self.tasks.open]
        for _, task in left:
            await self.tasks.cancel(task, f"step '{step.name}' is {outcome}")
        if left:
            await self._assign(index, step, [(a, t, "cancelled") for a, t in left], due)
        return outcome

    async def _settled(self, step: StepTemplate, approvers: list[Approver], due: Any) -> str:
        """Wait for the quorum; a reminder before the deadline, the head told after it."""
        deal_id, round_no = self._input.deal_id, self._round

        def waiting() -> list[Approver]:
            return [a for a in approvers if a.user_id not in self._votes]

        async def remind(_: timedelta) -> None:
            await fx.notify_waiting(
                self.key, deal_id, step, waiting(), due, round_no, escalate=False
            )

        async def escalate() -> None:
            notes = await fx.notify_waiting(
                self.key, deal_id, step, waiting(), due, round_no, escalate=True
            )
            for note in notes:
                await self._timeline(*note)

        before = [timedelta(hours=step.remind_before_hours)] if step.remind_before_hours else []
        watch = DeadlineWatch(
            f"r{round_no}/{step.code}",
            due,
            remind_before=before,
            on_reminder=remind if before else None,
            on_due=escalate if step.escalate else None,
        )
        await self.watch(watch).wait(lambda: self._outcome(step, len(approvers)) is not None)
        outcome = self._outcome(step, len(approvers))
        assert outcome is not None
        return outcome

    def _outcome(self, step: StepTemplate, approvers: int) -> str | None:
        votes = list(self._votes.values())
        return step_outcome(
            step.quorum, approvers, votes.count(rules.APPROVE), votes.count(rules.REJECT)
        )

    async def _return_to_initiator(
        self, deal: DealInfo, step: StepTemplate, comment: str
    ) -> TaskAnswer:
        self.set_stage("returned")
        allow_lose = self._template.on_reject.allow_lose
        task = await self.tasks.start(
            TaskSpec(
                step=f"r{self._round}/return",
                kind="approval.returned",
                assignee_id=self._input.initiator_id,
                title=f"Rejected at '{step.name}': {deal.title}",
                description=f"Comment: {comment}. Change the terms and restart the approval"
                + (", or lose the deal with a reason." if allow_lose else "."),
                outcomes=[rules.RESTART, rules.LOSE] if allow_lose else [rules.RESTART],
                fields=[AnswerField("reason", required=False)],
            )
        )
        answer = await self.tasks.answer_of(task)
        assert answer is not None
        return TaskAnswer(task.task_id, answer.actor_id, answer.outcome, answer.data)

    # ---- helpers ----
    async def _load_deal(self) -> DealInfo:
        deal = await calls.get_deal(GetDealInput(self._input.deal_id))
        self._fields = dict(deal.fields)
        return deal

    async def _assign(
        self,
        index: int,
        step: StepTemplate,
        items: list[tuple[Approver, OpenTask, str]],
        due: datetime | None,
    ) -> None:
        await ac.assign_step(
            AssignStepInput(
                request_id=self._request_id,
                round=self._round,
                step_code=step.code,
                step_index=index,
                assignments=[
                    AssignmentInfo(a.user_id, a.stand_in_id, t.task_id, status, due)
                    for a, t, status in items
                ],
            )
        )

    async def _record(
        self,
        answer: TaskAnswer,
        step: str,
        approver_id: str,
        before: dict[str, Any],
        after: dict[str, Any],
    ) -> None:
        self.decisions.append(
            await fx.record_decision(
                self.key(f"decision/{answer.task_id}"),
                self._request_id,
                self._round,
                step,
                approver_id,
                answer,
                before,
                after,
            )
        )

    async def _close(self, round_status: str, request_status: str) -> None:
        await ac.close_round(
            CloseRoundInput(self._request_id, self._round, round_status, request_status)
        )

    async def _result(self, outcome: str, reason: str = "") -> ChainResult:
        await self.finish(outcome)
        return ChainResult(
            self._request_id, outcome, self._round, reason, dict(self._fields), self.decisions
        )

    async def _timeline(self, step: str, text: str) -> None:
        await self.timeline(
            step, text, kind="approval", request_id=self._request_id, round=self._round
        )


async def run_chain(inp: ChainInput) -> ChainResult:
    """Run the chain as a child of the calling process: `<parent id>/approval-chain`, with
    the deal's search attributes, so an operator finds it from the deal's id."""
    result: ChainResult = await run_child(
        ApprovalChain.run,
        inp,
        name="approval-chain",
        process=PROCESS,
        deal_id=inp.deal_id,
        pipeline_id=inp.pipeline_id,
    )
    return result
