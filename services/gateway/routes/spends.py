"""One router shape for the two kinds of spend: payment requests to suppliers (SM-6) and
expenses (SN-6). Decisions are not here: they go through approvals. Submitting starts the
spend's process (workflows/processes/supplier_payment.py, expense_payment.py) right after
finance took the submission, so the caller learns at once that it runs (and its id); the
worker starts it from the `finance.*.submitted` event as well, with the same start key,
so a gateway that dies in between strands nothing and the process starts once."""

from __future__ import annotations

from typing import Annotated

from dealflow.deals.v1 import deals_pb2
from dealflow.finance.v1 import finance_pb2 as pb
from fastapi import APIRouter, Header, Query

from services.gateway.deps import (
    CurrentUser,
    Deals,
    Finance,
    Processes,
    Settings,
    TemporalClient,
)
from services.gateway.idempotency import CreationKey
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import Page, RecordId, cursor_or_none
from services.gateway.schemas.finance import (
    SpendIn,
    SpendOut,
)
from workflows.api import submission_key

Limit = Annotated[int, Query(ge=1, le=200)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def spend_router(kind: str, path: str, noun: str, *, closing: bool = False) -> APIRouter:
    router = APIRouter(prefix=API_PREFIX + path, tags=["finance"], responses=COMMON_RESPONSES)

    def ref(spend_id: int) -> pb.SpendRef:
        return pb.SpendRef(kind=kind, spend_id=str(spend_id))

    @router.post("", status_code=201, responses=responses(403, 404), summary=f"Create {noun}")
    async def create(body: SpendIn, _: CurrentUser, finance: Finance, key: CreationKey) -> SpendOut:
        reply = await finance.CreateSpend(
            pb.CreateSpendRequest(
                kind=kind,
                deal_id=str(body.deal_id or ""),
                counterparty=body.counterparty,
                purpose=body.purpose,
                amount=body.amount,
                currency=body.currency,
                due_date=body.due_date.isoformat(),
                idempotency_key=key,
            )
        )
        return SpendOut.of(reply)

    @router.get("", summary=f"List {noun}s")
    async def list_spends(
        _: CurrentUser,
        finance: Finance,
        status: str = "",
        deal_id: RecordId | None = None,
        cursor: str = "",
        limit: Limit = 50,
    ) -> Page[SpendOut]:
        reply = await finance.ListSpends(
            pb.ListSpendsRequest(
                kind=kind, status=status, deal_id=str(deal_id or ""), cursor=cursor, limit=limit
            )
        )
        return Page(
            items=[SpendOut.of(s) for s in reply.spends],
            next_cursor=cursor_or_none(reply.next_cursor),
        )

    @router.get("/{spend_id}", responses=responses(404), summary=f"Get {noun}")
    async def get(spend_id: RecordId, _: CurrentUser, finance: Finance) -> SpendOut:
        return SpendOut.of(await finance.GetSpend(ref(spend_id)))

    @router.post("/{spend_id}/submit", responses=responses(403, 404, 409), summary="To approval")
    async def submit(
        spend_id: RecordId,
        user: CurrentUser,
        finance: Finance,
        deals: Deals,
        temporal: TemporalClient,
        processes: Processes,
        settings: Settings,
    ) -> SpendOut:
        """Send for approval (again, after a rejection: a new run of the process)."""
        spend = await finance.SubmitSpend(ref(spend_id))
        pipeline_id = None
        if spend.deal_id:
            deal = await deals.GetDeal(deals_pb2.GetDealRequest(id=spend.deal_id))
            pipeline_id = deal.pipeline_id
        started = await processes.start_spend_process(
            temporal,
            kind=kind,
            spend_id=spend.id,
            initiator_id=str(user.id),
            deal_id=spend.deal_id or None,
            pipeline_id=pipeline_id,
            task_queue=settings.task_queue,
            start_key=submission_key(kind, spend.id, spend.updated_at),
        )
        return SpendOut.of(spend, process_id=started.workflow_id)

    @router.post("/{spend_id}/cancel", responses=responses(403, 404, 409), summary="Withdraw")
    async def cancel(spend_id: RecordId, _: CurrentUser, finance: Finance) -> SpendOut:
        return SpendOut.of(await finance.CancelSpend(ref(spend_id)))

    return router
