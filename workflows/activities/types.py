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
class AnswerField:
    """A field of a task's answer. Announced with the task (so a front end builds the
    answer form without knowing the process) and checked by the process's validator.

    `type`: `string`, `text`, `date` (YYYY-MM-DD), `number`, `boolean`, `list` (of strings),
    `file` (the id of a file of the deal) or `files` (a list of such ids). `required_for`
    names the outcomes that need it (empty: every outcome, when `required`); `options` the
    allowed values."""

    name: str
    type: str = "string"
    required: bool = True
    options: list[str] = field(default_factory=list)
    required_for: list[str] = field(default_factory=list)
    label: str = ""

    def needed_for(self, outcome: str) -> bool:
        if self.required_for:
            return outcome in self.required_for
        return self.required


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
    # What the answer needs, announced on the task (see AnswerField).
    answer_fields: list[AnswerField] = field(default_factory=list)
    comment_outcomes: list[str] = field(default_factory=list)  # outcomes that need a comment


@dataclass
class TaskInfo:
    id: str
    status: str
    assignee_id: str = ""
    outcome: str = ""
    # `complete_task` only: the whole completed task as notifications answered it (the JSON
    # mapping of dealflow.notifications.v1.Task), which the answer's Update hands back to
    # the gateway so it answers without reading the task again. None in older histories.
    task: dict[str, Any] | None = None


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


@dataclass
class LookUpListInput:
    """The `value_column` of the first row of admin list `list_code` whose `key_column`
    equals `key` (compared as text)."""

    list_code: str
    key_column: str
    key: str
    value_column: str


@dataclass
class ListValue:
    value: str = ""  # "" when no row matches or its cell is empty
    list_missing: bool = False  # there is no list of that code


@dataclass
class ListItemsInput:
    code: str  # an admin list's code
