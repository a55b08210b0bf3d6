"""The payment schedule (SN-6): what is due when, with running totals, for a calendar or a
Gantt view; an admin resets the running totals."""

from __future__ import annotations

from dealflow.finance.v1 import finance_pb2 as pb
from fastapi import APIRouter

from services.gateway.deps import CurrentUser, Finance
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import IsoDate
from services.gateway.schemas.finance import ScheduleEntryOut, ScheduleResetOut

router = APIRouter(
    prefix=API_PREFIX + "/payment-schedule", tags=["finance"], responses=COMMON_RESPONSES
)


@router.get("")
async def payment_schedule(
    _: CurrentUser,
    finance: Finance,
    date_from: IsoDate | None = None,
    date_to: IsoDate | None = None,
) -> list[ScheduleEntryOut]:
    """Entries due in the period by due date; running totals per currency and direction in
    order of creation since the last reset."""
    reply = await finance.GetPaymentSchedule(
        pb.GetPaymentScheduleRequest(
            date_from=date_from.isoformat() if date_from else "",
            date_to=date_to.isoformat() if date_to else "",
        )
    )
    return [ScheduleEntryOut.of(e) for e in reply.entries]


@router.post("/reset", responses=responses(403))
async def reset_running_totals(_: CurrentUser, finance: Finance) -> ScheduleResetOut:
    reply = await finance.ResetPaymentSchedule(pb.ResetPaymentScheduleRequest())
    return ScheduleResetOut(after_entry_id=int(reply.after_entry_id))
