"""A deal's (and a lead's) automation run log, recording a touch of the client on the timeline (what
`activity_logged` rules fire on), and the company calendar business-day delays and
deadlines are counted on."""

from __future__ import annotations

from typing import Any, Literal

from dealflow.deals.v1 import automation_pb2, deals_pb2
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from services.common.protoconv import from_struct, to_struct
from services.gateway.deps import AdminUser, Automation, CurrentUser, Deals
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import Input, RecordId
from services.gateway.schemas.deals import TimelineEntryOut

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


@router.get("/leads/{lead_id}/automation", responses=responses(404))
async def lead_automation(
    lead_id: RecordId,
    _: CurrentUser,
    automation: Automation,
    limit: int = Query(100, ge=1, le=200),
) -> list[dict[str, Any]]:
    """The lead's run log, in the deal's shape (`lead_id` in place of `deal_id`)."""
    reply = await automation.ListRuns(
        automation_pb2.ListRunsRequest(lead_id=str(lead_id), limit=limit)
    )
    return [from_struct(r) for r in reply.runs]


class TimelineEntryIn(Input):
    kind: Literal["note", "call", "email", "meeting"] = Field(
        "note", description="a call, e-mail or meeting fires the `activity_logged` rules"
    )
    text: str = Field(min_length=1, max_length=10_000)


@router.post("/deals/{deal_id}/timeline", status_code=201, responses=responses(404))
async def add_timeline_entry(
    deal_id: RecordId, body: TimelineEntryIn, _: CurrentUser, deals: Deals
) -> TimelineEntryOut:
    """Record a note, or a touch of the client (call, e-mail, meeting), on the timeline."""
    entry = await deals.AddTimelineEntry(
        deals_pb2.AddTimelineEntryRequest(deal_id=str(deal_id), kind=body.kind, text=body.text)
    )
    return TimelineEntryOut.of(entry)


@router.get("/calendar")
async def get_calendar(_: CurrentUser, automation: Automation) -> CalendarOut:
    return CalendarOut.of(await automation.GetCalendar(automation_pb2.GetCalendarRequest()))


@router.put("/calendar", responses=responses(403))
async def put_calendar(body: CalendarIn, _: AdminUser, automation: Automation) -> CalendarOut:
    reply = await automation.PutCalendar(
        automation_pb2.PutCalendarRequest(calendar=to_struct(body.model_dump()))
    )
    return CalendarOut.of(reply)
