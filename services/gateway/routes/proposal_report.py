"""SM-1's proposals report: sent, agreed, refused (with reasons) and pending per manager in
a period, of the deals the caller sees (the deals service adds them up)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from dealflow.deals.v1 import deals_pb2
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from services.gateway.deps import CurrentUser, Deals
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.rate_limit import expensive
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import IsoDate, timestamp

router = APIRouter(
    prefix=API_PREFIX + "/reports",
    tags=["reports"],
    responses={**COMMON_RESPONSES, **responses(429)},
    dependencies=[Depends(expensive)],
)


class RefusalOut(BaseModel):
    deal_id: int
    reason: str
    at: datetime | None


class ProposalRowOut(BaseModel):
    manager_id: int
    sent: int
    agreed: int
    refused: int
    pending: int
    refusals: list[RefusalOut]

    @classmethod
    def of(cls, row: Any) -> ProposalRowOut:
        return cls(
            manager_id=int(row.manager_id),
            sent=row.sent,
            agreed=row.agreed,
            refused=row.refused,
            pending=row.pending,
            refusals=[
                RefusalOut(deal_id=int(r.deal_id), reason=r.reason, at=timestamp(r, "at"))
                for r in row.refusals
            ],
        )


@router.get("/proposals")
async def proposals(
    _: CurrentUser,
    deals: Deals,
    date_from: Annotated[IsoDate, Query(alias="from", description="YYYY-MM-DD, inclusive")],
    date_to: Annotated[IsoDate, Query(alias="to", description="YYYY-MM-DD, inclusive")],
    manager_id: Annotated[int | None, Query(ge=1)] = None,
) -> list[ProposalRowOut]:
    """Per manager: proposals sent in the period, agreed and refused in it (each refusal
    with its reason), and pending (sent in it, neither agreed nor refused by its end)."""
    reply = await deals.GetProposalReport(
        deals_pb2.GetProposalReportRequest(
            date_from=date_from.isoformat(),
            date_to=date_to.isoformat(),
            manager_id=str(manager_id or ""),
        )
    )
    return [ProposalRowOut.of(r) for r in reply.rows]
