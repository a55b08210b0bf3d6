"""Tasks people do and the notification feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.common.protoconv import from_struct
from services.gateway.schemas.common import Input, id_or_none, ids, str_or_none, timestamp


class TaskComplete(Input):
    outcome: str = Field(min_length=1)
    data: dict[str, Any] = {}


class AnswerFieldOut(BaseModel):
    """A field of the answer's `data`: `type` is string, text, date (YYYY-MM-DD), number,
    boolean, file (the id of a file of the deal) or files (a list of such ids)."""

    name: str
    type: str
    required: bool
    options: list[str]
    required_for: list[str]
    label: str

    @classmethod
    def of(cls, msg: Any) -> AnswerFieldOut:
        return cls(
            name=msg.name,
            type=msg.type,
            required=msg.required,
            options=list(msg.options),
            required_for=list(msg.required_for),
            label=msg.label,
        )


class TaskOut(BaseModel):
    id: int
    kind: str | None
    title: str
    description: str
    assignee_id: int | None
    watcher_ids: list[int]
    deal_id: int | None
    status: str
    outcomes: list[str]
    answer_fields: list[AnswerFieldOut]
    comment_outcomes: list[str]
    outcome: str | None
    result: dict[str, Any]
    workflow_id: str | None
    deadline: datetime | None
    created_at: datetime | None
    completed_at: datetime | None
    completed_by: int | None
    checklist: list[str] = []
    rule_id: int | None = None  # the automation rule that made the task

    @classmethod
    def of(cls, msg: Any) -> TaskOut:
        return cls(
            id=int(msg.id),
            kind=str_or_none(msg.kind),
            title=msg.title,
            description=msg.description,
            assignee_id=id_or_none(msg.assignee_id),
            watcher_ids=ids(msg.watcher_ids),
            deal_id=id_or_none(msg.deal_id),
            status=msg.status,
            outcomes=list(msg.outcomes),
            answer_fields=[AnswerFieldOut.of(f) for f in msg.answer_fields],
            comment_outcomes=list(msg.comment_outcomes),
            outcome=str_or_none(msg.outcome),
            result=from_struct(msg.result),
            workflow_id=str_or_none(msg.workflow_id),
            deadline=timestamp(msg, "deadline"),
            created_at=timestamp(msg, "created_at"),
            completed_at=timestamp(msg, "completed_at"),
            completed_by=id_or_none(msg.completed_by),
            checklist=list(msg.checklist),
            rule_id=id_or_none(msg.rule_id),
        )


class NotificationOut(BaseModel):
    id: int
    user_id: int
    kind: str
    title: str
    body: str
    deal_id: int | None
    created_at: datetime | None

    @classmethod
    def of(cls, msg: Any) -> NotificationOut:
        return cls(
            id=int(msg.id),
            user_id=int(msg.user_id),
            kind=msg.kind,
            title=msg.title,
            body=msg.body,
            deal_id=id_or_none(msg.deal_id),
            created_at=timestamp(msg, "created_at"),
        )
