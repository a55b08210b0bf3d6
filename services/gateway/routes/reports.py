"""Reports: deal margin per manager and period (SM-8), for heads; visibility applies."""

from __future__ import annotations

from dealflow.finance.v1 import finance_pb2 as pb
from fastapi import APIRouter, Depends

from services.gateway.deps import CurrentUser, Finance
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.rate_limit import expensive
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import IsoDate
from services.gateway.schemas.finance import MarginRowOut

# Reports are expensive: each call counts against the caller's limit (429 past it).
router = APIRouter(
    prefix=API_PREFIX + "/reports",
    tags=["reports"],
    responses={**COMMON_RESPONSES, **responses(429)},
    dependencies=[Depends(expensive)],
)


@router.get("/margin", responses=responses(403))
async def margin(
    _: CurrentUser, finance: Finance, date_from: IsoDate, date_to: IsoDate
) -> list[MarginRowOut]:
    """Revenue, costs, profit and profit % per manager recorded in the period (payments by
    their date), for the managers the caller sees."""
    reply = await finance.GetMarginReport(
        pb.GetMarginReportRequest(date_from=date_from.isoformat(), date_to=date_to.isoformat())
    )
    return [MarginRowOut.of(r) for r in reply.rows]
