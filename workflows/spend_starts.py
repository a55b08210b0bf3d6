"""The worker's durable consumer of `finance.*.submitted`: a submitted spend's process
starts from the submission event, so a gateway that dies between finance's commit and the
workflow start strands nothing.

The gateway starts the process right after the submission too (its answer names the run);
both use the submission's start key (workflows.api.submission_key), so whichever comes
second finds the run and starts nothing: one run per submission.
"""

from __future__ import annotations

import logging

from dealflow.deals.v1 import deals_pb2, deals_pb2_grpc
from nats.js import JetStreamContext
from temporalio.client import Client

from services.common.errors import DomainError
from services.common.events import Envelope
from services.common.grpc_client import call
from services.common.nats import EventConsumer
from workflows.api import DEFAULT_TASK_QUEUE, SPEND_PROCESSES, start_spend_process, submission_key

log = logging.getLogger(__name__)

STREAM = "FINANCE"
SUBMITTED = "finance.*.submitted"  # services/finance/events.py: payment_request, expense
DURABLE = "worker-spend-starts"


class SpendStarts(EventConsumer):
    def __init__(
        self,
        *,
        js: JetStreamContext,
        temporal: Client,
        deals: deals_pb2_grpc.DealsServiceStub,
        task_queue: str = DEFAULT_TASK_QUEUE,
        durable: str = DURABLE,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(js=js, stream=STREAM, durable=durable, filter_subject=SUBMITTED)
        self._temporal, self._deals = temporal, deals
        self._task_queue, self._timeout = task_queue, timeout

    async def apply(self, event: Envelope) -> None:
        data = event.data
        try:
            kind, spend_id = str(data["kind"]), str(data["id"])
            deal_id, submitted_at = str(data.get("deal_id") or ""), str(data["updated_at"])
        except (KeyError, TypeError) as exc:
            raise DomainError(f"not a spend submission: {exc!r}") from exc
        if kind not in SPEND_PROCESSES:
            raise DomainError(f"no process for spends of kind {kind!r}")
        pipeline_id = ""
        if deal_id:
            request = deals_pb2.GetDealRequest(id=deal_id)
            pipeline_id = (
                await call(self._deals.GetDeal, request, timeout=self._timeout)
            ).pipeline_id
        started = await start_spend_process(
            self._temporal,
            kind=kind,
            spend_id=spend_id,
            initiator_id=event.actor or str(data.get("author_id") or data.get("owner_id")),
            deal_id=deal_id or None,
            pipeline_id=pipeline_id or None,
            task_queue=self._task_queue,
            start_key=submission_key(kind, spend_id, submitted_at),
        )
        log.info(
            "spend process started" if started.started else "spend process was running already",
            extra={"kind": kind, "spend_id": spend_id, "workflow_id": started.workflow_id},
        )
