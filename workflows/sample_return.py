"""SM-2 Sample return: the client gets samples and must bring them back by a date.

new → (manager hands them over) handed_to_client → (manager gets them back; overdue past the
return date escalates to the head) returned_pending_confirmation → (head confirms) returned
→ (manager sends them back to the supplier) sent_to_supplier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.activities import calls
from workflows.human_task import AnswerField, AnswerRecord, HumanTasks, OpenTask, TaskSpec

with workflow.unsafe.imports_passed_through():
    from workflows.activities.types import (
        AddTimelineEntryInput,
        CreateNotificationInput,
        DealInfo,
        FindHeadInput,
        GetDealInput,
        GetPipelineInput,
        GetUserInput,
        UpdateDealFieldsInput,
        UserInfo,
    )
    from workflows.contracts import (
        ASSIGNEE,
        COMPLETE_TASK_UPDATE,
        STAGE,
        STATE_QUERY,
        ProcessInput,
        TaskAnswer,
        TaskAnswerResult,
    )

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
    return_by: date


def parse_params(params: Mapping[str, Any]) -> SampleReturnParams:
    """Check the start parameters (the gateway calls this too); ValueError says what is wrong."""
    unknown = sorted(set(params) - {"return_by"})
    if unknown:
        raise ValueError(f"unknown parameter(s): {', '.join(unknown)}; expected: return_by")
    raw = params.get("return_by")
    if raw is None or raw == "":
        raise ValueError("return_by is required: the date (YYYY-MM-DD) the samples must be back")
    if not isinstance(raw, str):
        raise ValueError(f"return_by must be an ISO date string (YYYY-MM-DD), got {raw!r}")
    try:
        return SampleReturnParams(return_by=date.fromisoformat(raw))
    except ValueError:
        raise ValueError(f"return_by must be an ISO date (YYYY-MM-DD), got {raw!r}") from None


@dataclass
class SampleReturnState:
    stage: str
    open_task_ids: list[str]
    answers: list[AnswerRecord]
    escalated_to: str = ""


@dataclass
class SampleReturnResult:
    deal_id: str
    handed_on: str
    confirmed_by: str
    sent_on: str
    tracking: str = ""
    escalated_to: str = ""
    answers: list[AnswerRecord] = field(default_factory=list)


@workflow.defn(name=PROCESS)
class SampleReturn:
    @workflow.init
    def __init__(self, inp: ProcessInput) -> None:
        self._input = inp
        self.tasks = HumanTasks(inp.deal_id)
        self._stage = Stages.NEW
        self._head: UserInfo | None = None
        self._escalated_to = ""

    @workflow.run
    async def run(self, inp: ProcessInput) -> SampleReturnResult:
        try:
            return_by = parse_params(inp.params).return_by
        except ValueError as exc:
            raise ApplicationError(str(exc), type="InvalidParams", non_retryable=True) from exc
        self._set_stage(Stages.NEW)
        deal = await calls.get_deal(GetDealInput(deal_id=inp.deal_id))
        manager = deal.responsible_id
        await self._timeline("started", f"Sample return started; samples due back {return_by}")

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
        handed_on = (await self._answer(hand_over)).data["handed_on"]
        await self._timeline(
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
        remaining = overdue_at - workflow.now()
        returned = None
        if remaining > timedelta():
            returned = await self.tasks.answer_of(control, remaining)
        overdue_task = None
        if returned is None:
            overdue_task = await self._escalate(deal, return_by)
            returned = await self._answer(control)

        head = await self._find_head(manager)
        await self._timeline(
            "returned", f"Manager reports the samples are back; {head.name} to confirm"
        )
        if overdue_task is not None:
            await self.tasks.cancel(overdue_task, "The samples are back from the client")
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
        await self._answer(confirm)
        await self._timeline("confirmed", f"Samples returned (confirmed by {head.name})")
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
        sent = await self._answer(send_back)
        sent_on, tracking = sent.data["sent_on"], str(sent.data.get("tracking") or "")
        suffix = f" ({tracking})" if tracking else ""
        await self._timeline("sent", f"Samples sent back to the supplier on {sent_on}{suffix}")

        workflow.upsert_search_attributes([ASSIGNEE.value_unset()])
        await workflow.wait_condition(workflow.all_handlers_finished)
        return SampleReturnResult(
            deal_id=deal.id,
            handed_on=handed_on,
            confirmed_by=head.id,
            sent_on=sent_on,
            tracking=tracking,
            escalated_to=self._escalated_to,
            answers=list(self.tasks.answers),
        )

    @workflow.update(name=COMPLETE_TASK_UPDATE)
    async def complete_task(self, answer: TaskAnswer) -> TaskAnswerResult:
        task = await self.tasks.complete(answer)
        next_stage = task.spec.next_stage.get(answer.outcome)
        if next_stage is not None:
            self._set_stage(next_stage)
        return TaskAnswerResult(task_id=task.task_id, outcome=answer.outcome, stage=self._stage)

    @complete_task.validator
    def validate_answer(self, answer: TaskAnswer) -> None:
        self.tasks.validate(answer)

    @workflow.query(name=STATE_QUERY)
    def state(self) -> SampleReturnState:
        return SampleReturnState(
            stage=self._stage,
            open_task_ids=list(self.tasks.open),
            answers=list(self.tasks.answers),
            escalated_to=self._escalated_to,
        )

    # ---- steps ----
    async def _answer(self, task: OpenTask) -> AnswerRecord:
        answer = await self.tasks.answer_of(task)
        assert answer is not None  # no timeout: only an answer ends the wait
        return answer

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
                idempotency_key=self._key("overdue-notice"),
                user_id=head.id,
                kind="sample_return.overdue",
                title=title,
                body=body,
                deal_id=deal.id,
            )
        )
        self._escalated_to = head.id
        await self._timeline("overdue", f"Sample return overdue; escalated to {head.name}")
        return task

    async def _find_head(self, user_id: str) -> UserInfo:
        if self._head is None:
            self._head = await calls.find_head(FindHeadInput(user_id=user_id))
        return self._head

    async def _timeline(self, step: str, text: str) -> None:
        await calls.add_timeline_entry(
            AddTimelineEntryInput(
                idempotency_key=self._key(step),
                deal_id=self._input.deal_id,
                text=text,
                data={"process": PROCESS, "workflow_id": workflow.info().workflow_id, "step": step},
            )
        )

    def _key(self, step: str) -> str:
        return f"{workflow.info().workflow_id}/{step}"

    def _set_stage(self, stage: str) -> None:
        self._stage = stage
        workflow.upsert_search_attributes([STAGE.value_set(stage)])
