"""The worker's durable consumer of `finance.payment.recorded`: the running processes of the
invoice's deal get the `invoice_changed` Signal (workflows/kit/invoices.py), so a process
waiting for a prepayment or for an invoice to be paid goes on once finance has it.

A redelivered event signals the same facts again, which changes nothing: what a process
has seen of an invoice only ever grows (paid, fully paid).
"""

from __future__ import annotations

import logging

from nats.js import JetStreamContext
from temporalio.client import Client, WorkflowExecutionStatus

from services.common.errors import DomainError
from services.common.events import Envelope
from services.common.nats import EventConsumer
from workflows.api import running_processes
from workflows.kit.invoices import INVOICE_CHANGED_SIGNAL, InvoiceChange

log = logging.getLogger(__name__)

STREAM = "FINANCE"
RECORDED = "finance.payment.recorded"  # services/finance/events.py
DURABLE = "worker-invoice-changes"


def change_of(data: dict[str, object]) -> tuple[str, InvoiceChange]:
    """The deal and what the event says of its invoice; DomainError when it is not one."""
    try:
        deal_id, invoice_id = str(data.get("deal_id") or ""), str(data["invoice_id"])
        status, paid = str(data["status"]), str(data["paid"])
        change = InvoiceChange(invoice_id, status, paid, str(data.get("balance", "")))
    except (KeyError, TypeError, AttributeError) as exc:
        raise DomainError(f"not a payment on an invoice: {exc!r}") from exc
    return deal_id, change


class InvoiceChanges(EventConsumer):
    def __init__(self, *, js: JetStreamContext, temporal: Client, durable: str = DURABLE) -> None:
        super().__init__(js=js, stream=STREAM, durable=durable, filter_subject=RECORDED)
        self._temporal = temporal

    async def apply(self, event: Envelope) -> None:
        deal_id, change = change_of(event.data)
        if not deal_id or not change.invoice_id:
            return  # a supplier's payment or an invoice without a deal: no process waits
        for workflow_id in await running_processes(self._temporal, deal_id):
            handle = self._temporal.get_workflow_handle(workflow_id)
            if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
                continue  # closed since visibility listed it
            await handle.signal(INVOICE_CHANGED_SIGNAL, change)
            log.info(
                "told a process of an invoice payment",
                extra={
                    "deal_id": deal_id,
                    "workflow_id": workflow_id,
                    "invoice": change.invoice_id,
                },
            )
