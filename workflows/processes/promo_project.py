"""BT The promo agency's project (seed 004): one process with two branches.

- BT-1 the deadline branch, alongside everything else: the deal's date field
  (`project_deadline`) under a deadline watch; the manager is told N days before (3 and 1)
  and when it passes; changing the field moves the watch.
- BT-2 proposal → contract → invoice, each a review loop with the client (kit `Review`),
  each moving the deal's stage; the invoice cycle requests the invoice in finance (the
  manager's answer) and the accountant issues it (their answer).
- BT-3 the plan: prepayment (production waits until finance registers a payment on the
  invoice), layouts (the client's, or ours: SM-3's layout loop as a child process),
  production (own / third-party printer / both): tasks, notifications, links.
- BT-4 product cards (type and characteristics from admin lists), added any number of
  times while the project runs, each a production task; nothing ends before all are made.
- BT-5 the handover: accepted (an extra payment: an invoice in finance, the accountant's
  task, wait until paid) or not (a rework task, then the handover again).

cycles → plan → (prepayment ∥ layouts) → production + cards → handover ⇄ rework → done
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.activities import calls
from workflows.kit import DeadlineWatch, OpenTask, Process, Review, ReviewRound, TaskText
from workflows.kit import process as declare
from workflows.kit.joined import JoinedTasks
from workflows.kit.params import RecordId, param
from workflows.kit.people import one_with_role
from workflows.kit.process import due_of

with workflow.unsafe.imports_passed_through():
    from workflows.activities import approval_calls as ac
    from workflows.activities.approval_types import DealRefInput, MoveDealInput, PipelineLayout
    from workflows.activities.types import CreateNotificationInput, DealInfo, GetDealInput
    from workflows.kit.contracts import ProcessInput, TaskAnswer
    from workflows.processes.promo_money import ProjectMoney
    from workflows.processes.promo_production import ProductCard, ProjectProduction

PROCESS = "promo_project"
API = "/api/v1"
# The deal's stage each part moves it to, when its pipeline has a stage of that name.
STAGES = {
    "proposal": "Proposal",
    "contract": "Contract",
    "invoice": "Invoice",
    "production": "Production",
    "handover": "Handover",
}


@dataclass
class PromoProjectParams:
    deadline_field: str = param(
        help="the deal's date field holding the project deadline", default="project_deadline"
    )
    remind_days: list[int] = param(
        help="the days before the deadline the manager is reminded", default=(3, 1)
    )
    designer_id: RecordId = param(
        help="our designer's user id for layouts (default: the first designer)",
        default=RecordId(""),
    )
    production_role: str = param(help="the project group's role", default="production")
    contractor_role: str = param(
        help="the role of the manager of third-party printers", default="contractor_manager"
    )
    accountant_role: str = param(help="the accountants' role", default="accountant")
    types_list: str = param(help="the admin list of product types", default="product_types")
    characteristics_list: str = param(
        help="the admin list of product characteristics", default="product_characteristics"
    )


@dataclass
class PromoProjectResult:
    deal_id: str
    outcome: str  # handed_over
    invoice_id: str
    extra_invoice_id: str = ""
    cards: list[ProductCard] = field(default_factory=list)
    handovers: int = 0


@declare(PROCESS, params=PromoProjectParams)
class PromoProject(Process):
    """BT: a promo project from the proposal to the handover, its deadline watched."""

    initial_stage = "proposal"

    def setup(self) -> None:
        self.reviews: dict[str, Review] = {}
        self.handovers: list[dict[str, Any]] = []
        self.money = ProjectMoney(self)
        self.making = ProjectProduction(self, JoinedTasks(self))
        self._deal: DealInfo | None = None
        self._layout: PipelineLayout | None = None

    @property
    def deal(self) -> DealInfo:
        assert self._deal is not None
        return self._deal

    @workflow.run
    async def run(self, inp: ProcessInput) -> PromoProjectResult:
        params: PromoProjectParams = self.params
        deal = self._deal = await calls.get_deal(GetDealInput(inp.deal_id))
        manager = deal.responsible_id
        self._layout = await ac.get_pipeline_layout(DealRefInput(deal.id))
        self.run_alongside(self._deadline_watch(params))
        await self.timeline("started", f"Promo project started: {deal.title}")

        # BT-2: the three review loops with the client, each at its stage of the deal.
        accountant = await one_with_role(deal.id, params.accountant_role, manager)
        for cycle, author in (("proposal", manager), ("contract", manager)):
            await self.move_deal(cycle)
            await self._review(cycle, author).run(self)
        await self.move_deal("invoice")
        await self.money.request_step(manager)
        await self._review("invoice", accountant).run(self)
        await self.money.issue_step(accountant, self.reviews["invoice"].rounds[-1].file_ids)

        # BT-3: the plan, then the prepayment and the layouts side by side.
        plan = await self.making.plan_step(manager)
        self.set_stage("preparation")
        await asyncio.gather(self._prepayment(plan, accountant), self.making.layouts(plan))
        await self.move_deal("production")
        await self.making.site_tasks(plan)
        # BT-4: product cards from now on, each a production task.
        self.making.open_cards()

        # BT-5: the handover once what was ordered so far is made.
        handover = await self._handover(manager)
        if handover.data.get("extra_payment"):
            await self.money.extra_payment_steps(accountant)
        await self.making.all_made()
        self.set_stage("done")
        await self.finish("handed_over")
        return PromoProjectResult(
            deal.id,
            "handed_over",
            self.money.invoice_id,
            self.money.extra_invoice_id,
            list(self.making.cards),
            len(self.handovers),
        )

    def details(self) -> dict[str, Any]:
        return {
            "cycles": {name: list(r.rounds) for name, r in self.reviews.items()},
            **self.money.details(),
            **self.making.details(),
            "handovers": list(self.handovers),
        }

    # ---- the answers' own checks and effects ----
    def check_answer(self, task: OpenTask, answer: TaskAnswer) -> None:
        self.money.check_answer(task, answer)
        self.making.check_answer(task, answer)

    async def before_answer(self, task: OpenTask, answer: TaskAnswer) -> None:
        await self.money.before_answer(task, answer)
        await self.making.before_answer(task, answer)

    # ---- BT-1 ----
    def _deadline_watch(self, params: PromoProjectParams) -> DeadlineWatch:
        """Due at the start of the deadline day; it passes at the end of that day."""
        try:
            due = due_of(self.deal.fields.get(params.deadline_field))
        except ValueError:
            due = None  # not a date: nothing to watch until the field gets one
        return DeadlineWatch(
            "deadline",
            due,
            remind_before=[timedelta(days=d) for d in params.remind_days],
            on_reminder=self._deadline_near,
            overdue_after=timedelta(days=1),
            on_overdue=self._deadline_passed,
            field=params.deadline_field,
        )

    async def _deadline_near(self, before: timedelta) -> None:
        due = self.watches["deadline"].due
        if due is None or workflow.now() >= due:
            return  # moved into the past: only its passing is news
        text = f"Project deadline in {before.days} day(s), on {due.date()}: {self.deal.title}"
        await self.notify("deadline/soon", self.deal.responsible_id, "deadline_soon", text)
        await self.timeline("deadline/soon", text, days_before=before.days)

    async def _deadline_passed(self) -> None:
        due = self.watches["deadline"].due
        assert due is not None
        text = f"The project deadline {due.date()} has passed: {self.deal.title}"
        await self.notify("deadline/passed", self.deal.responsible_id, "deadline_passed", text)
        await self.timeline("deadline/passed", text)

    # ---- BT-2 ----
    def _review(self, cycle: str, author: str) -> Review:
        manager, title = self.deal.responsible_id, self.deal.title

        def submission(n: int, previous: ReviewRound | None) -> TaskText:
            asks = f"The client asks for changes: {previous.comment}. " if previous else ""
            return TaskText(
                author,
                f"Prepare the {cycle}: {title} (round {n})",
                f"{asks}Attach the {cycle} for the client.",
                watcher_ids=[manager] if author != manager else [],
            )

        review = self.reviews[cycle] = Review(
            name=cycle,
            submission=submission,
            review=lambda r: TaskText(
                manager,
                f"Agree the {cycle} with the client: {title} (round {r.round})",
                f"The {cycle}: files {', '.join(r.file_ids)}. Approved, or the client's "
                "changes in the comment.",
            ),
            submission_stage=cycle,
            review_stage=f"{cycle}_review",
        )
        return review

    # ---- BT-3: the prepayment ----
    async def _prepayment(self, plan: dict[str, Any], accountant: str) -> None:
        if not plan["prepayment"]:
            await self.timeline("prepayment", "Postpayment: production does not wait for money")
            return
        await self.money.wait_prepayment(accountant)

    # ---- BT-5 ----
    async def _handover(self, manager: str) -> Any:
        """The handover, again after each rework, until the client accepts."""
        while True:
            self.set_stage("production")
            await self.making.ready_for_handover()
            await self.move_deal("handover")
            answer = await self.answer(await self.tasks.start(self.money.handover_spec(manager)))
            self.handovers.append(
                {"outcome": answer.outcome, "at": answer.answered_at, **answer.data}
            )
            if answer.outcome == "accepted":
                extra = " with an extra payment" if answer.data.get("extra_payment") else ""
                await self.timeline("handover/accepted", f"The client accepted the project{extra}")
                return answer
            comment = str(answer.data.get("comment") or "")
            await self.timeline("handover/not_accepted", f"Not accepted: {comment}")
            await self.making.rework(comment)

    # ---- shared by the parts ----
    async def move_deal(self, step: str) -> None:
        """The process at `step`, the deal at its stage (when the pipeline has it; a stage
        rule refusing the move is noted, the process goes on)."""
        self.set_stage(step)
        assert self._layout is not None
        name = STAGES[step]
        stage = next((s for s in self._layout.stages if s.name.casefold() == name.casefold()), None)
        if stage is None:
            return
        try:
            await ac.move_deal(MoveDealInput(self.deal.id, stage.id, f"Promo project: {step}"))
        except ActivityError as exc:
            await self.timeline(f"stage/{step}", f"The deal stays put ({name}): {exc.cause or exc}")

    async def notify(self, step: str, user_id: str, kind: str, title: str, *links: str) -> None:
        await calls.create_notification(
            CreateNotificationInput(
                idempotency_key=self.key(f"notify/{step}"),
                user_id=user_id,
                kind=f"{PROCESS}.{kind}",
                title=title,
                body="\n".join([f"Deal: {API}/deals/{self.deal.id}", *links]),
                deal_id=self.deal.id,
            )
        )
