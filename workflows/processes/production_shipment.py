"""SM-7 Production and shipment: the manager records the supplier and the production due
date; a deadline watch reminds the manager before the date (3 days, 1 day) and alerts at it
while production runs; the manager records "ready" → an accountant prepares the shipping
documents (files required) → the manager checks them: closed, and the process moves the deal
to the pipeline's won stage, or sent back to the accountant with a comment. Each step is on
the deal's timeline.

production → shipping_documents ⇄ check → won
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.activities import calls
from workflows.kit import (
    AnswerField,
    AnswerRecord,
    DeadlineWatch,
    OpenTask,
    Process,
    TaskSpec,
)
from workflows.kit import process as declare
from workflows.kit.params import RecordId, param
from workflows.kit.resolve import Resolved, resolve_or_ask
from workflows.kit.stages import DealStages

with workflow.unsafe.imports_passed_through():
    from process_rules.approval_templates import ApproverRule
    from workflows.activities import approval_calls as ac
    from workflows.activities.approval_types import AttachFilesInput, ResolveApproversInput
    from workflows.activities.types import CreateNotificationInput, DealInfo, GetDealInput
    from workflows.kit.contracts import ProcessInput

PROCESS = "production_shipment"
ACCOUNTANT_ROLE = "accountant"
REMIND_BEFORE = (timedelta(days=3), timedelta(days=1))


@dataclass
class ProductionShipmentParams:
    accountant_id: RecordId = param(
        help="the accountant's user id (default: the first user with the role accountant)",
        default=RecordId(""),
    )


@dataclass
class ProductionShipmentResult:
    deal_id: str
    supplier: str
    due_on: str
    document_ids: list[str] = field(default_factory=list)
    answers: list[AnswerRecord] = field(default_factory=list)


@declare(PROCESS, params=ProductionShipmentParams)
class ProductionShipment(Process):
    """SM-7: production tracked at the supplier, shipping documents, the deal closed as won."""

    initial_stage = "production"

    def setup(self) -> None:
        self.supplier = ""
        self.due_on = ""
        self.document_ids: list[str] = []
        self.alerts: list[str] = []  # the watch's alerts so far ("remind:3 days, ...", "due")

    @workflow.run
    async def run(self, inp: ProcessInput) -> ProductionShipmentResult:
        self.set_stage("production")
        deal = await calls.get_deal(GetDealInput(inp.deal_id))
        manager = deal.responsible_id
        recorded = await self.answer(
            await self._task(
                "production", manager, f"Record the supplier and the production date: {deal.title}",
                ["recorded"],
                [AnswerField("supplier", label="the supplier"),
                 AnswerField("due_on", "date", label="production due on")],
            )
        )  # fmt: skip
        self.supplier, self.due_on = str(recorded.data["supplier"]), str(recorded.data["due_on"])
        await self.timeline("production", f"In production at {self.supplier}, due {self.due_on}")

        due = datetime.combine(date.fromisoformat(self.due_on), time(), UTC)
        ready = await self._task(
            "ready", manager, f"Production ready at {self.supplier}? {deal.title}", ["ready"],
            deadline=due,
        )  # fmt: skip

        async def remind(before: timedelta) -> None:
            await self._alert(deal, f"remind:{before.days}d", f"due in {before.days} day(s)")

        async def at_due() -> None:
            await self._alert(deal, "due", "due today")

        watch = self.watch(
            DeadlineWatch("production_due", due, remind_before=REMIND_BEFORE,
                          on_reminder=remind, on_due=at_due)
        )  # fmt: skip
        await self.answer(ready, watch)
        await self.timeline("ready", f"Production ready at {self.supplier}")

        comment = ""
        while True:
            self.set_stage("shipping_documents")
            accountant = await resolve_or_ask(self, "accountant", self._accountant)
            prepared = await self.answer(
                await self._task(
                    "documents", accountant, f"Prepare the shipping documents: {deal.title}",
                    ["prepared"], [AnswerField("documents", "files", label="the documents")],
                    description=f"The manager asks for changes: {comment}" if comment else "",
                )
            )  # fmt: skip
            self.document_ids = [str(f) for f in prepared.data["documents"]]
            await ac.attach_files(
                AttachFilesInput(deal.id, self.document_ids, "task", prepared.task_id)
            )
            await self.timeline(
                "documents", "Shipping documents prepared", file_ids=self.document_ids
            )
            self.set_stage("check")
            checked = await self.answer(
                await self._task(
                    "check", manager, f"Check the shipping documents and close: {deal.title}",
                    ["closed", "rework"], comment_outcomes=["rework"],
                )
            )  # fmt: skip
            if checked.outcome == "closed":
                break
            comment = str(checked.data.get("comment") or "")
            await self.timeline("rework", f"Documents sent back to the accountant: {comment}")

        stages = DealStages(self)
        await stages.move_to(await stages.won(), "shipped; documents checked")
        await self.timeline("closed", "Deal closed as won: shipped with documents checked")
        self.set_stage("won")
        await self.finish("won")
        return ProductionShipmentResult(
            deal.id, self.supplier, self.due_on, self.document_ids, list(self.tasks.answers)
        )

    def details(self) -> dict[str, Any]:
        return {
            "supplier": self.supplier,
            "due_on": self.due_on,
            "document_ids": list(self.document_ids),
            "alerts": list(self.alerts),
        }

    # ---- steps ----
    async def _task(
        self,
        step: str,
        assignee: str,
        title: str,
        outcomes: list[str],
        fields: list[AnswerField] | None = None,
        *,
        deadline: datetime | None = None,
        description: str = "",
        comment_outcomes: list[str] | None = None,
    ) -> OpenTask:
        return await self.tasks.start(
            TaskSpec(
                step=step,
                kind=f"{PROCESS}.{step}",
                assignee_id=assignee,
                title=title,
                outcomes=outcomes,
                fields=fields or [],
                deadline=deadline,
                description=description,
                comment_outcomes=comment_outcomes or [],
            )
        )

    async def _alert(self, deal: DealInfo, name: str, when: str) -> None:
        self.alerts.append(name)
        text = f"Production at {self.supplier} {when} ({self.due_on})"
        await calls.create_notification(
            CreateNotificationInput(
                idempotency_key=self.key(f"alert-{name}"),
                user_id=deal.responsible_id,
                kind=f"{PROCESS}.{'due' if name == 'due' else 'reminder'}",
                title=f"{deal.title}: {text}",
                body=text,
                deal_id=deal.id,
            )
        )
        await self.timeline(f"alert-{name}", text)

    async def _accountant(self) -> Resolved:
        chosen: str = self.params.accountant_id
        if chosen:
            return Resolved(chosen)
        try:
            found = await ac.resolve_approvers(
                ResolveApproversInput(
                    self.input.deal_id,
                    self.input.initiator_id,
                    [ApproverRule("role", role=ACCOUNTANT_ROLE)],
                )
            )
        except ActivityError:
            found = []
        if not found:
            return Resolved(missing=f"nobody has the role {ACCOUNTANT_ROLE}")
        return Resolved(found[0].user_id)
