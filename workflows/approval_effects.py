"""What the approval chain does to the world besides waiting: reminders and escalations,
the final actions of a full approval, decisions kept in the approvals service, timeline
entries on the deal. Plain functions run inside the chain's workflow (activities only)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.activities import calls

with workflow.unsafe.imports_passed_through():
    from process_rules.approval_templates import ChainTemplate, StepTemplate
    from workflows.activities import approval_calls as ac
    from workflows.activities.approval_types import Approver, MoveDealInput, RecordDecisionInput
    from workflows.activities.types import (
        AddTimelineEntryInput,
        CreateNotificationInput,
        CreateTaskInput,
        DealInfo,
        FindHeadInput,
    )
    from workflows.approval_chain_types import DecisionRecord
    from workflows.kit.contracts import TaskAnswer

PROCESS = "approval_chain"
Key = Callable[[str], str]  # a step name -> its idempotency key (workflow id + step)


async def notify_waiting(
    key: Key,
    deal_id: str,
    step: StepTemplate,
    waiting: list[Approver],
    due: datetime,
    round_no: int,
    *,
    escalate: bool,
) -> list[tuple[str, str]]:
    """Remind those who have not decided, or tell their heads; the timeline notes to add."""
    what = "escalated" if escalate else "reminded"
    notes = []
    for approver in waiting:
        name = f"r{round_no}/{step.code}/{approver.user_id}/{what}"
        to = approver.stand_in_id or approver.user_id
        title = f"Approval due {due:%Y-%m-%d %H:%M} UTC: {step.name}"
        if escalate:
            to = (await calls.find_head(FindHeadInput(approver.user_id))).id
            title = f"Approval overdue: {approver.name} has not decided '{step.name}'"
            notes.append((name, f"{step.name}: overdue, escalated to the head of {approver.name}"))
        await calls.create_notification(
            CreateNotificationInput(
                idempotency_key=key(name),
                user_id=to,
                kind=f"approval.{'overdue' if escalate else 'reminder'}",
                title=title,
                deal_id=deal_id,
            )
        )
    return notes


async def final_actions(
    template: ChainTemplate, deal: DealInfo, initiator_id: str, key: Key
) -> None:
    """The template's actions on full approval: move the deal, a task, a notification."""
    final = template.on_approve
    moved = ""
    if final.move_to_stage_id:
        try:
            await ac.move_deal(MoveDealInput(deal.id, final.move_to_stage_id, "Approved"))
        except ActivityError as exc:  # the stage's rules refuse it: the initiator moves it
            moved = f" The deal could not be moved on: {exc.cause or exc}"
            await timeline(deal.id, "", 0, "approved/not-moved", moved.strip())
    if final.task_title:  # a plain task: nobody waits on it once the chain is done
        await calls.create_task(
            CreateTaskInput(
                idempotency_key=key("approved/task"),
                workflow_id="",
                deal_id=deal.id,
                kind="approval.approved",
                assignee_id=initiator_id,
                title=f"{final.task_title}: {deal.title}",
                outcomes=["done"],
            )
        )
    if final.notify:
        await calls.create_notification(
            CreateNotificationInput(
                idempotency_key=key("approved/notice"),
                user_id=initiator_id,
                kind="approval.approved",
                title=f"Approved: {template.name} — {deal.title}",
                body=moved.strip(),
                deal_id=deal.id,
            )
        )


async def record_decision(
    idempotency_key: str,
    request_id: str,
    round_no: int,
    step: str,
    approver_id: str,
    answer: TaskAnswer,
    before: dict[str, Any],
    after: dict[str, Any],
) -> DecisionRecord:
    """Keep a decision in the approvals service (which tells others by an event)."""
    data = answer.data
    comment = str(data.get("comment") or data.get("reason") or "")
    file_ids = [str(f) for f in data.get("file_ids") or []]
    recorded = await ac.record_decision(
        RecordDecisionInput(
            idempotency_key=idempotency_key,
            request_id=request_id,
            round=round_no,
            step_code=step,
            approver_id=approver_id,
            actor_id=answer.actor_id,
            outcome=answer.outcome,
            comment=comment,
            fields_before=before,
            fields_after=after,
            file_ids=file_ids,
            task_id=answer.task_id,
        )
    )
    return DecisionRecord(
        round_no,
        step,
        approver_id,
        answer.actor_id,
        answer.outcome,
        comment,
        dict(after),
        file_ids,
        workflow.now(),
        recorded.id,
    )


def describe(template_name: str, round_no: int, step: StepTemplate, approver: Approver) -> str:
    """The approver's task description."""
    parts = [f"Step '{step.name}' of '{template_name}', round {round_no}."]
    if approver.stand_in_id:
        parts.append(f"You stand in for {approver.name}, who is away.")
    if step.editable_fields:
        parts.append("You may change: " + ", ".join(step.editable_fields) + ".")
    if step.requires_file:
        parts.append("Attach the document to approve.")
    return " ".join(parts)


async def timeline(deal_id: str, request_id: str, round_no: int, step: str, text: str) -> None:
    """An entry on the deal's timeline, once per step of the run."""
    workflow_id = workflow.info().workflow_id
    await calls.add_timeline_entry(
        AddTimelineEntryInput(
            idempotency_key=f"{workflow_id}/{step}",
            deal_id=deal_id,
            text=text,
            kind="approval",
            data={
                "process": PROCESS,
                "workflow_id": workflow_id,
                "request_id": request_id,
                "round": round_no,
                "step": step,
            },
        )
    )
