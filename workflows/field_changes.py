"""The worker's durable consumer of `deals.deal.updated`: the deal's running processes are
told which fields changed (the `deal_fields_changed` Signal), so a deadline watch bound to a
date field (`DeadlineWatch(field="production_due")`) moves while it runs.

A redelivered event signals the same values again, which moves nothing: a watch re-arms
only what is still ahead of its due time.
"""

from __future__ import annotations

import logging
from typing import Any

from nats.js import JetStreamContext
from temporalio.client import Client, WorkflowExecutionStatus

from services.common.errors import DomainError
from services.common.events import Envelope
from services.common.nats import EventConsumer
from workflows.api import running_processes

log = logging.getLogger(__name__)

STREAM = "DEALS"
UPDATED = "deals.deal.updated"  # services/deals/events.py
DURABLE = "worker-field-changes"


def changed_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The deal fields an update changed, with their new values."""
    before = (data.get("before") or {}).get("fields") or {}
    after = (data.get("after") or {}).get("fields") or {}
    return {code: value for code, value in after.items() if before.get(code) != value}


class FieldChanges(EventConsumer):
    def __init__(self, *, js: JetStreamContext, temporal: Client, durable: str = DURABLE) -> None:
        super().__init__(js=js, stream=STREAM, durable=durable, filter_subject=UPDATED)
        self._temporal = temporal

    async def apply(self, event: Envelope) -> None:
        try:
            deal_id = str(event.data["deal"]["id"])
            changes = changed_fields(event.data)
        except (KeyError, TypeError, AttributeError) as exc:
            raise DomainError(f"not a deal update: {exc!r}") from exc
        if not changes:
            return
        for workflow_id in await running_processes(self._temporal, deal_id):
            handle = self._temporal.get_workflow_handle(workflow_id)
            described = await handle.describe()
            if described.status != WorkflowExecutionStatus.RUNNING:
                continue  # closed since visibility listed it
            await handle.signal("deal_fields_changed", changes)
            log.info(
                "told a process of changed fields",
                extra={"deal_id": deal_id, "workflow_id": workflow_id, "fields": sorted(changes)},
            )
