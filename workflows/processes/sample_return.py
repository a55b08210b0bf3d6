"""SM-2 Sample return: the client gets samples and must bring them back by a date.

new → (manager hands them over) handed_to_client → (manager gets them back; overdue past the
return date escalates to the head) returned_pending_confirmation → (head confirms) returned
→ (manager sends them back to the supplier) sent_to_supplier.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from temporalio import workflow

from workflows.activities import calls
from workflows.kit import AnswerField, AnswerRecord, DeadlineWatch, OpenTask, Process, TaskSpec
from workflows.kit import process as declare
from workflows.kit.params import param

with workflow.unsafe.imports_passed_through():
    from workflows.activities.types import (
        CreateNotificationInput,
        DealInfo,
        FindHeadInput,
        GetDealInput,
        GetPipelineInput,
        GetUserInput,
        UpdateDealFieldsInput,
        UserInfo,
    )
    from workflows.kit.contracts import ProcessInput

PROCESS = "sample_return"
SAMPLES_RETURNED_FIELD = "samples_returned"  # set on the deal only if its pipeline has it


class Stages:
    NEW = "new"
    HANDED_TO_CLIENT = "handed_to_client"
    RETURNED_PENDING_CONFIRMATION = "returned_pending_confirmation"
    RETURNED = "returned"
    SENT_TO_SUPPLIER = "sent_to_supplier"


@dataclass
class SampleReturnParams:
    return_by: date = param(help="the date (YYYY-MM-DD) the samples must be back")


@dataclass
class SampleReturnResult:
    deal_id: str
    handed_on: str
    confirmed_by: str
    sent_on: str
    tracking: str = ""
    escalated_to: str = ""
    answers: list[AnswerRecord] = field(default_factory=list)


@declare(PROCESS, params=SampleReturnParams)
class SampleReturn(Process):
    """SM-2: samples handed to the client come back by a date, or the head hears of it."""

    def setup(self) -> None:
        self._head: UserInfo | None = None
        self._escalated_to = ""
        self._overdue_task: OpenTask | None = None

    @workflow.run
    async def run(self, inp: ProcessInput) -> SampleReturnResult:
        return_by: date = self.params.return_by
        self.set_stage(Stages.NEW)
        deal = await calls.get_deal(GetDealInput(deal_id=inp.deal_id))
        manager = deal.responsible_id
        await self.timeline("started", f"Sample return started; samples due back {return_by}")

        hand_over = await self.tasks.start(
            TaskSpec(
                step="hand_over",
                kind="sample_return.hand_over",
                assignee_id=manager,
                title="Hand the samples to the client",
                description=f"Deal {deal.title}: the samples must be back by {return_by}.",
                outcomes=["handed"],
                fields=[AnswerField("handed_on", "date")],
                next_stage={"handed": Stages.HANDED_TO_CLIENT},
            )
        )
        handed_on = (await self.answer(hand_over)).data["handed_on"]
        await self.timeline(
            "handed", f"Samples handed to the client on {handed_on}, due back {return_by}"
        )

        overdue_at = datetime.combine(return_by + timedelta(days=1), time.min, tzinfo=UTC)
        control = await self.tasks.start(
            TaskSpec(
                step="control",
                kind="sample_return.control",
                assignee_id=manager,
                title="Get the samples back from the client",
                description=f"Deal {deal.title}: handed on {handed_on}, due back {return_by}.",
                outcomes=["returned"],
                deadline=overdue_at - timedelta(seconds=1),
                next_stage={"returned": Stages.RETURNED_PENDING_CONFIRMATION},
            )
        )

        async def escalate() -> None:
            self._overdue_task = await self._escalate(deal, return_by)

        watch = self.watch(DeadlineWatch("return_by", overdue_at, on_due=escalate))
        await self.answer(control, watch)

        head = await self._find_head(manager)
        await self.timeline(
            "returned", f"Manager reports the samples are back; {head.name} to confirm"
        )
        if self._overdue_task is not None:
            await self.tasks.cancel(self._overdue_task, "The samples are back from the client")
        confirm = await self.tasks.start(
            TaskSpec(
                step="confirm",
                kind="sample_return.confirm",
                assignee_id=head.id,
                title="Confirm the samples are back",
                description=f"Deal {deal.title}: the manager reports the samples are back.",
                outcomes=["confirmed"],
                next_stage={"confirmed": Stages.RETURNED},
            )
        )
        await self.answer(confirm)
        await self.timeline("confirmed", f"Samples returned (confirmed by {head.name})")
        pipeline = await calls.get_pipeline(GetPipelineInput(pipeline_id=deal.pipeline_id))
        if SAMPLES_RETURNED_FIELD in pipeline.field_codes:
            await calls.update_deal_fields(
                UpdateDealFieldsInput(deal_id=deal.id, fields={SAMPLES_RETURNED_FIELD: True})
            )

        send_back = await self.tasks.start(
            TaskSpec(
                step="send_back",
                kind="sample_return.send_back",
                assignee_id=manager,
                title="Send the samples back to the supplier",
                description=f"Deal {deal.title}: record the date sent and the tracking number.",
                outcomes=["sent"],
                fields=[AnswerField("sent_on", "date"), AnswerField("tracking", required=False)],
                next_stage={"sent": Stages.SENT_TO_SUPPLIER},
            )
        )
        sent = await self.answer(send_back)
        sent_on, tracking = sent.data["sent_on"], str(sent.data.get("tracking") or "")
        suffix = f" ({tracking})" if tracking else ""
        await self.timeline("sent", f"Samples sent back to the supplier on {sent_on}{suffix}")

        await self.finish("sent_to_supplier")
        return SampleReturnResult(
            deal_id=deal.id,
            handed_on=handed_on,
            confirmed_by=head.id,
            sent_on=sent_on,
            tracking=tracking,
            escalated_to=self._escalated_to,
            answers=list(self.tasks.answers),
        )

    def details(self) -> dict[str, Any]:
        return {"escalated_to": self._escalated_to}

    # ---- steps ----
    async def _escalate(self, deal: DealInfo, return_by: date) -> OpenTask:
        """Past the return date: the head gets a task and a notification; nobody waits."""
        head = await self._find_head(deal.responsible_id)
        manager = await calls.get_user(GetUserInput(user_id=deal.responsible_id))
        title = f"Samples overdue on deal {deal.title}"
        body = f"{manager.name} was to get the samples back from the client by {return_by}."
        task = await self.tasks.start(
            TaskSpec(
                step="overdue",
                kind="sample_return.overdue",
                assignee_id=head.id,
                title=title,
                description=body,
                outcomes=["acknowledged"],
                awaited=False,
            )
        )
        await calls.create_notification(
            CreateNotificationInput(
                idempotency_key=self.key("overdue-notice"),
                user_id=head.id,
                kind="sample_return.overdue",
                title=title,
                body=body,
                deal_id=deal.id,
            )
        )
        self._escalated_to = head.id
        await self.timeline("overdue", f"Sample return overdue; escalated to {head.name}")
        return task

    async def _find_head(self, user_id: str) -> UserInfo:
        if self._head is None:
            self._head = await calls.find_head(FindHeadInput(user_id=user_id))
        return self._head
