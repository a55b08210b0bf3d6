"""A deal's automation run log, and the company calendar business-day delays and
deadlines are counted on."""

from __future__ import annotations

from typing import Any

from dealflow.deals.v1 import automation_pb2
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from services.common.protoconv import from_struct, to_struct
from services.gateway.deps import AdminUser, Automation, CurrentUser
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import Input, RecordId

router = APIRouter(prefix=API_PREFIX, tags=["automation"], responses=COMMON_RESPONSES)


class CalendarIn(Input):
    timezone: str = Field("UTC", examples=["Europe/Moscow"])
    working_days: list[int] = Field([1, 2, 3, 4, 5], description="ISO weekdays, Monday = 1")
    work_start: str = Field("09:00", examples=["09:00"])
    work_end: str = Field("18:00", examples=["18:00"])
    holidays: list[str] = Field([], examples=[["2027-01-01"]])


class CalendarOut(BaseModel):
    timezone: str
    working_days: list[int]
    work_start: str
    work_end: str
    holidays: list[str]

    @classmethod
    def of(cls, msg: Any) -> CalendarOut:
        return cls(**from_struct(msg.calendar))


@router.get("/deals/{deal_id}/automation", responses=responses(404))
async def deal_automation(
    deal_id: RecordId,
    _: CurrentUser,
    automation: Automation,
    limit: int = Query(100, ge=1, le=200),
) -> list[dict[str, Any]]:
    """Every evaluation of a rule on the deal, newest first: rule and version, the event,
    the condition's result and reason, the delay's due time and each action's result."""
    reply = await automation.ListRuns(
        automation_pb2.ListRunsRequest(deal_id=str(deal_id), limit=limit)
    )
    return [from_struct(r) for r in reply.runs]


@router.get("/calendar")
async def get_calendar(_: CurrentUser, automation: Automation) -> CalendarOut:
    return CalendarOut.of(await automation.GetCalendar(automation_pb2.GetCalendarRequest()))


@router.put("/calendar", responses=responses(403))
async def put_calendar(body: CalendarIn, _: AdminUser, automation: Automation) -> CalendarOut:
    reply = await automation.PutCalendar(
        automation_pb2.PutCalendarRequest(calendar=to_struct(body.model_dump()))
    )
    return CalendarOut.of(reply)
