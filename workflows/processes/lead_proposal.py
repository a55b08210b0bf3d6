"""JUG-1 Proposal on a lead: the manager sends the proposal and records the client's
feedback, round by round (every round kept):

- **positive** → the lead is converted and the deal handed to another employee (the user
  given, else the first with the hand-over role, e.g. the account manager);
- **terms not accepted** (the client's terms in the comment) → the head approves the
  non-standard terms: approved → back to the client (the next round); rejected → the lead is
  lost with the head's reason;
- **no answer** → the manager tries again after a delay (a durable timer), up to
  `max_attempts` times, then decides whether to go on (again) or give up (lost, with the
  reason);
- **refused** → the lead is lost with the reason.

proposal → feedback ⇄ (terms_approval | waiting) → converted | lost
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

from workflows.activities import calls
from workflows.kit import AnswerField, Process, TaskSpec
from workflows.kit import process as declare
from workflows.kit.params import Code, RecordId, param
from workflows.kit.people import one_with_role

with workflow.unsafe.imports_passed_through():
    from workflows.activities import leads_calls as lc
    from workflows.activities.leads_types import (
        ConvertLeadInput,
        LeadInfo,
        LeadRefInput,
        LoseLeadInput,
    )
    from workflows.activities.types import FindHeadInput
    from workflows.kit.contracts import ProcessInput

PROCESS = "lead_proposal"
POSITIVE, TERMS, NO_ANSWER, REFUSED = "positive", "terms_not_accepted", "no_answer", "refused"
FEEDBACK_OUTCOMES = [POSITIVE, TERMS, NO_ANSWER, REFUSED]


@dataclass
class LeadProposalParams:
    hand_over_to: RecordId = param(
        help="the user the deal is handed to (default: the first with hand_over_role)",
        default=RecordId(""),
    )
    hand_over_role: Code = param(
        help="a role code: whose first user gets the deal", default=Code("account_manager")
    )
    max_attempts: int = param(help="how often the manager tries again on no answer", default=3)
    retry_after_hours: int = param(
        help="how many hours before trying again (0: at once)", default=48
    )
    deal_pipeline_id: RecordId = param(
        help="the deal pipeline the lead converts into (default: the first)",
        default=RecordId(""),
    )


@dataclass
class FeedbackRound:
    """One answer of the client's (or its absence), as the manager recorded it."""

    round: int
    attempt: int  # the try within the round (no answer → 2, 3, ...)
    outcome: str
    comment: str
    by: str
    at: datetime
    decision: str = ""  # the head's (approved | rejected) or the manager's (go_on | give_up)
    decision_comment: str = ""


@dataclass
class LeadProposalResult:
    lead_id: str
    outcome: str  # converted | lost
    deal_id: str = ""
    handed_to: str = ""
    reason: str = ""
    rounds: list[FeedbackRound] = field(default_factory=list)


@declare(PROCESS, params=LeadProposalParams, starts="lead")
class LeadProposal(Process):
    """JUG-1: a proposal on a lead followed up until the client agrees, or the lead is lost."""

    initial_stage = "proposal"

    def setup(self) -> None:
        self.rounds: list[FeedbackRound] = []

    @workflow.run
    async def run(self, inp: ProcessInput) -> LeadProposalResult:
        params: LeadProposalParams = self.params
        lead = await lc.get_lead(LeadRefInput(inp.lead_id))
        manager = lead.responsible_id
        round_no = 0
        while True:
            round_no += 1
            await self._proposal(lead, manager, round_no)
            outcome, reason = await self._follow_up(lead, manager, round_no, params)
            if outcome == POSITIVE:
                return await self._convert(lead, manager, params)
            if outcome == REFUSED:
                return await self._lose(lead, reason)
            # the non-standard terms were approved: back to the client, the next round

    def details(self) -> dict[str, Any]:
        return {"rounds": list(self.rounds)}

    # ---- steps ----
    async def _proposal(self, lead: LeadInfo, manager: str, round_no: int) -> None:
        self.set_stage("proposal")
        first = round_no == 1
        await self.answer(
            await self.tasks.start(
                TaskSpec(
                    step="proposal",
                    kind=f"{PROCESS}.proposal",
                    assignee_id=manager,
                    title=f"Send the {'proposal' if first else 'revised proposal'}: {lead.title}",
                    description=f"Lead {lead.id}: send the client the proposal"
                    + ("." if first else " on the approved non-standard terms."),
                    outcomes=["sent"],
                    fields=[AnswerField("comment", "text", required=False)],
                )
            )
        )

    async def _follow_up(
        self, lead: LeadInfo, manager: str, round_no: int, params: LeadProposalParams
    ) -> tuple[str, str]:
        """The client's feedback until it decides the round: (POSITIVE, "") converts,
        (REFUSED, reason) loses the lead, (TERMS, "") means approved terms: next round."""
        attempt = 0
        while True:
            attempt += 1
            self.set_stage("feedback")
            answer = await self.answer(
                await self.tasks.start(
                    TaskSpec(
                        step="feedback",
                        kind=f"{PROCESS}.feedback",
                        assignee_id=manager,
                        title=f"Get the client's feedback on the proposal: {lead.title}"
                        + (f" (try {attempt})" if attempt > 1 else ""),
                        description=f"Lead {lead.id}, round {round_no}. Terms not accepted: "
                        "the client's terms in the comment; refused: the reason.",
                        outcomes=FEEDBACK_OUTCOMES,
                        fields=[AnswerField("comment", "text", required=False)],
                        comment_outcomes=[TERMS, REFUSED],
                    )
                )
            )
            record = FeedbackRound(
                round_no, attempt, answer.outcome, _comment(answer.data), answer.actor_id,
                answer.answered_at,
            )  # fmt: skip
            self.rounds.append(record)
            if answer.outcome in (POSITIVE, REFUSED):
                return answer.outcome, record.comment
            if answer.outcome == TERMS:
                return await self._terms_approval(lead, manager, record)
            if attempt < params.max_attempts:
                self.set_stage("waiting")
                if params.retry_after_hours > 0:  # 0: the manager tries again at once
                    await workflow.sleep(timedelta(hours=params.retry_after_hours))
                continue
            if not await self._go_on(lead, manager, record, attempt):
                return REFUSED, record.decision_comment
            attempt = 0

    async def _terms_approval(
        self, lead: LeadInfo, manager: str, record: FeedbackRound
    ) -> tuple[str, str]:
        self.set_stage("terms_approval")
        head = await calls.find_head(FindHeadInput(manager))
        title = f"Approve non-standard terms: {lead.title}"
        asks = f"Lead {lead.id}: the client asks for {record.comment}"
        await self._decide(record, "terms", head.id, title, asks, "approved", "rejected")
        if record.decision == "rejected":
            return REFUSED, f"non-standard terms rejected: {record.decision_comment}"
        return TERMS, ""

    async def _go_on(
        self, lead: LeadInfo, manager: str, record: FeedbackRound, attempts: int
    ) -> bool:
        self.set_stage("decide")
        title = f"No answer after {attempts} tries: go on with {lead.title}?"
        asks = f"Lead {lead.id}: go on trying, or give up (say why)."
        await self._decide(record, "go_on", manager, title, asks, "go_on", "give_up")
        return record.decision == "go_on"

    async def _decide(
        self, record: FeedbackRound, step: str, who: str, title: str, description: str,
        yes: str, no: str,
    ) -> None:  # fmt: skip
        """A yes/no decision on the round (`no` says why), recorded on it."""
        answer = await self.answer(
            await self.tasks.start(
                TaskSpec(
                    step=step,
                    kind=f"{PROCESS}.{step}",
                    assignee_id=who,
                    title=title,
                    description=description,
                    outcomes=[yes, no],
                    fields=[AnswerField("comment", "text", required=False)],
                    comment_outcomes=[no],
                )
            )
        )
        record.decision, record.decision_comment = answer.outcome, _comment(answer.data)

    async def _convert(
        self, lead: LeadInfo, manager: str, params: LeadProposalParams
    ) -> LeadProposalResult:
        to = params.hand_over_to or await one_with_role("", params.hand_over_role, manager)
        converted = await lc.convert_lead(
            ConvertLeadInput(lead.id, responsible_id=to, pipeline_id=params.deal_pipeline_id)
        )
        self.set_stage("converted")
        await self.finish("converted")
        return LeadProposalResult(
            lead.id, "converted", converted.deal_id, to, rounds=list(self.rounds)
        )

    async def _lose(self, lead: LeadInfo, reason: str) -> LeadProposalResult:
        await lc.lose_lead(LoseLeadInput(lead.id, reason))
        self.set_stage("lost")
        await self.finish("lost")
        return LeadProposalResult(lead.id, "lost", reason=reason, rounds=list(self.rounds))


def _comment(data: dict[str, Any]) -> str:
    return str(data.get("comment") or "").strip()
