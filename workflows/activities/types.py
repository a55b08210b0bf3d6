"""Inputs and outputs of the service activities: plain dataclasses, one per call, so a
workflow file can import them without touching gRPC (and the sandbox stays quiet)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class GetDealInput:
    deal_id: str


@dataclass
class DealInfo:
    id: str
    pipeline_id: str
    stage_id: str
    title: str
    responsible_id: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class GetPipelineInput:
    pipeline_id: str


@dataclass
class PipelineInfo:
    id: str
    name: str
    field_codes: list[str] = field(default_factory=list)


@dataclass
class FindHeadInput:
    user_id: str


@dataclass
class GetUserInput:
    user_id: str


@dataclass
class UserInfo:
    id: str
    name: str
    email: str = ""
    department_id: str = ""


@dataclass
class CreateTaskInput:
    idempotency_key: str
    workflow_id: str
    deal_id: str
    kind: str
    assignee_id: str
    title: str
    outcomes: list[str]
    description: str = ""
    deadline: datetime | None = None
    watcher_ids: list[str] = field(default_factory=list)


@dataclass
class TaskInfo:
    id: str
    status: str
    assignee_id: str = ""
    outcome: str = ""


@dataclass
class CompleteTaskInput:
    task_id: str
    outcome: str
    completed_by: str
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class CancelTaskInput:
    task_id: str
    reason: str


@dataclass
class CreateNotificationInput:
    idempotency_key: str
    user_id: str
    kind: str
    title: str
    body: str = ""
    deal_id: str = ""


@dataclass
class NotificationInfo:
    id: str


@dataclass
class AddTimelineEntryInput:
    idempotency_key: str
    deal_id: str
    text: str
    kind: str = "process"
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class TimelineEntryInfo:
    id: str


@dataclass
class UpdateDealFieldsInput:
    deal_id: str
    fields: dict[str, Any]
