"""The worker's durable consumer of `deals.reminder_plan.changed` (services/deals/
plan_events.py): a plan was made, changed or stopped, or an activity done on its record
restarted a channel's clock. It signals the plan's workflow `plan_changed`, starting it
when none runs (signal-with-start: one call, whether or not it runs), so the plan is read
again at once. A redelivered event signals again, which changes nothing: the workflow
re-reads the plan."""

from __future__ import annotations

import logging

from nats.js import JetStreamContext
from temporalio.client import Client

from services.common.errors import DomainError
from services.common.events import Envelope
from services.common.nats import EventConsumer
from workflows.activities.reminder_types import (
    PLAN_CHANGED_SIGNAL,
    PLAN_WORKFLOW,
    PlanInput,
    plan_workflow_id,
)
from workflows.api import DEFAULT_TASK_QUEUE

log = logging.getLogger(__name__)

STREAM = "DEALS"
PLAN_CHANGED = "deals.reminder_plan.changed"
DURABLE = "worker-reminder-plans"


class ReminderStarts(EventConsumer):
    def __init__(
        self,
        *,
        js: JetStreamContext,
        temporal: Client,
        task_queue: str = DEFAULT_TASK_QUEUE,
        durable: str = DURABLE,
    ) -> None:
        super().__init__(js=js, stream=STREAM, durable=durable, filter_subject=PLAN_CHANGED)
        self._temporal, self._task_queue = temporal, task_queue

    async def apply(self, event: Envelope) -> None:
        try:
            plan_id = str(event.data["plan"]["id"])
        except (KeyError, TypeError) as exc:
            raise DomainError(f"not a reminder plan event: {exc!r}") from exc
        workflow_id = plan_workflow_id(plan_id)
        await self._temporal.start_workflow(
            PLAN_WORKFLOW,
            PlanInput(plan_id),
            id=workflow_id,
            task_queue=self._task_queue,
            start_signal=PLAN_CHANGED_SIGNAL,
            static_summary=f"reminder plan {plan_id}",
        )
        log.info(
            "reminder plan told",
            extra={"workflow_id": workflow_id, "why": event.data.get("reason", "")},
        )
