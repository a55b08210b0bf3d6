"""Starting the leadership alerts workflow (the worker, at start-up) and asking it for a
check at once (the gateway's `POST /api/v1/alerts/checks`). Next to workflows/api.py,
which holds the same for the processes of deals."""

from __future__ import annotations

import asyncio
import logging

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from workflows.activities.reminder_types import (
    ALERTS_WORKFLOW,
    ALERTS_WORKFLOW_ID,
    CHECK_NOW_SIGNAL,
    CHECKS,
    AlertsInput,
)

__all__ = ["CHECKS", "ask_alert_check", "ensure_alerts", "keep_alerts_started"]

log = logging.getLogger(__name__)


async def ensure_alerts(client: Client, task_queue: str) -> None:
    """Start the one alerts workflow unless it runs (a second worker joins the first)."""
    await client.start_workflow(
        ALERTS_WORKFLOW,
        AlertsInput(),
        id=ALERTS_WORKFLOW_ID,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary="leadership alerts (SN-9)",
    )


async def keep_alerts_started(client: Client, task_queue: str, *, delay: float = 1.0) -> None:
    """`ensure_alerts`, retried until Temporal takes it (a worker that starts while Temporal
    restarts keeps running its other workflows meanwhile)."""
    while True:
        try:
            await ensure_alerts(client, task_queue)
            return
        except RPCError as exc:
            log.warning("alerts workflow not started yet", extra={"error": str(exc)})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)


async def ask_alert_check(client: Client, check: str) -> None:
    """Have the alerts workflow run one check now."""
    await client.get_workflow_handle(ALERTS_WORKFLOW_ID).signal(CHECK_NOW_SIGNAL, check)
