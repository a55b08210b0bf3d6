"""The payment registry (SM-5): money in from clients and out to suppliers and expenses."""

from __future__ import annotations

from typing import Annotated, Literal

from dealflow.finance.v1 import finance_pb2 as pb
from fastapi import APIRouter, Query

from services.gateway.deps import CurrentUser, Finance
from services.gateway.problems import COMMON_RESPONSES
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import IsoDate, Page, RecordId, cursor_or_none
from services.gateway.schemas.finance import PaymentOut

router = APIRouter(prefix=API_PREFIX + "/payments", tags=["finance"], responses=COMMON_RESPONSES)


@router.get("")
async def list_payments(
    _: CurrentUser,
    finance: Finance,
    counterparty: str = "",
    direction: Literal["in", "out"] | None = None,
    date_from: IsoDate | None = None,
    date_to: IsoDate | None = None,
    status: Annotated[str, Query(description="status of the invoice or request paid")] = "",
    deal_id: RecordId | None = None,
    cursor: str = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[PaymentOut]:
    reply = await finance.ListPayments(
        pb.ListPaymentsRequest(
            counterparty=counterparty,
            direction=direction or "",
            date_from=date_from.isoformat() if date_from else "",
            date_to=date_to.isoformat() if date_to else "",
            status=status,
            deal_id=str(deal_id or ""),
            cursor=cursor,
            limit=limit,
        )
    )
    return Page(
        items=[PaymentOut.of(p) for p in reply.payments],
        next_cursor=cursor_or_none(reply.next_cursor),
    )
