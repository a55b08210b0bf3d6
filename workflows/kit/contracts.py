"""What the gateway and the workflows agree on: how a process is started and how a
person's answer to a task reaches the process waiting on it.

A person's step is a task in the notifications service that names the workflow waiting on
it. The gateway sends the person's answer as the Temporal Update `complete_task`; the
workflow's validator refuses a wrong actor, outcome or missing data at once (the gateway
answers 4xx and nothing changes), the handler records the answer and moves the process on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from temporalio.common import SearchAttributeKey

COMPLETE_TASK_UPDATE = "complete_task"
STATE_QUERY = "state"

# Search attributes (registered by deploy/local/bootstrap.py and the Helm chart's README).
DEAL_ID = SearchAttributeKey.for_keyword("DealId")
PIPELINE_ID = SearchAttributeKey.for_keyword("PipelineId")
STAGE = SearchAttributeKey.for_keyword("Stage")
ASSIGNEE = SearchAttributeKey.for_keyword("Assignee")
PROCESS_NAME = SearchAttributeKey.for_keyword("ProcessName")
LEAD_ID = SearchAttributeKey.for_keyword("LeadId")  # a process started on a lead


# Types of the ApplicationError a validator raises; the gateway maps them to HTTP statuses.
class AnswerRefused:
    WRONG_ACTOR = "WrongActor"  # 403: not the assignee (nor their substitute)
    TASK_NOT_OPEN = "TaskNotOpen"  # 409: already answered, or not a task of this process
    INVALID_OUTCOME = "InvalidOutcome"  # 422: not one of the task's outcomes
    INVALID_DATA = "InvalidData"  # 422: a required answer field is missing or malformed


@dataclass
class ProcessInput:
    """Start input of every deal process (and of a lead's: `deal_id` "", `lead_id` set,
    `pipeline_id` the lead's funnel)."""

    deal_id: str
    pipeline_id: str
    initiator_id: str
    params: dict[str, Any] = field(default_factory=dict)
    lead_id: str = ""


@dataclass
class TaskAnswer:
    """A person's answer to an open task, sent as the `complete_task` Update."""

    task_id: str
    actor_id: str
    outcome: str
    data: dict[str, Any] = field(default_factory=dict)
    # Set by the gateway after it checked that the actor stands in for this absent user.
    stands_in_for: str = ""


@dataclass
class DeadlineMove:
    """The `deadline_moved` Signal: a running process's deadline watch `name` moves."""

    name: str
    due: datetime | None


@dataclass
class TaskAnswerResult:
    task_id: str
    outcome: str
    stage: str  # the process stage after the answer
    # The completed task as the notifications service answered the completion (the JSON
    # mapping of dealflow.notifications.v1.Task), so the gateway need not read it again;
    # None from a run whose answer was recorded before the field existed.
    task: dict[str, Any] | None = None


def process_workflow_id(deal_id: str | int, process: str, n: int) -> str:
    """Readable and unique per run: `deal-42/sample-return/1`."""
    return f"deal-{deal_id}/{process.replace('_', '-')}/{n}"
