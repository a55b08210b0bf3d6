"""Each user's iCalendar feed (point 6 of issue 17): `POST /api/v1/me/calendar-feed` makes a
secret URL (a new one revokes the old), `DELETE` revokes it, and any calendar app fetches
`GET /api/v1/calendar-feeds/{token}.ics` without signing in: the user's open tasks with a
deadline, planned activities, and the date fields of the deals they are responsible for
(a moved deadline moves there too: the feed is read afresh and every event keeps its UID).
The feed is not in the OpenAPI description: it is a URL for calendar apps, its secret is
the credential."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from dealflow.deals.v1 import activities_pb2, deals_pb2
from dealflow.notifications.v1 import calendar_feeds_pb2 as pb
from dealflow.notifications.v1 import notifications_pb2
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from services.common.protoconv import from_struct
from services.gateway.deps import AppClients, BoundStub, CurrentUser, Settings
from services.gateway.ical import Event, render
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.routes import API_PREFIX

router = APIRouter(prefix=API_PREFIX, tags=["calendar feed"], responses=COMMON_RESPONSES)
FEED_LIMIT = 200  # of each kind: tasks, activities, deals
DATE_TYPES = {"date", "datetime"}


class FeedOut(BaseModel):
    url: str  # shown once: only its hash is kept
    created_at: datetime


@router.post("/me/calendar-feed", status_code=201)
async def create_feed(
    request: Request, user: CurrentUser, clients: AppClients, settings: Settings
) -> FeedOut:
    """A new secret feed URL for the caller; the one before stops working."""
    feeds = BoundStub(clients.feeds, actor=user.id, timeout=settings.request_timeout_seconds)
    made = await feeds.CreateFeed(pb.CreateFeedRequest(user_id=str(user.id)))
    url = str(request.url_for("calendar_feed", token=f"{made.token}.ics"))
    return FeedOut(url=url, created_at=made.created_at.ToDatetime(tzinfo=UTC))


@router.delete("/me/calendar-feed", status_code=204, responses=responses(404))
async def revoke_feed(user: CurrentUser, clients: AppClients, settings: Settings) -> Response:
    feeds = BoundStub(clients.feeds, actor=user.id, timeout=settings.request_timeout_seconds)
    await feeds.RevokeFeed(pb.RevokeFeedRequest(user_id=str(user.id)))
    return Response(status_code=204)


@router.get("/calendar-feeds/{token}", name="calendar_feed", include_in_schema=False)
async def calendar_feed(token: str, clients: AppClients, settings: Settings) -> Response:
    timeout = settings.request_timeout_seconds
    gateway = BoundStub(clients.feeds, actor=None, timeout=timeout)
    found = await gateway.ResolveFeed(pb.ResolveFeedRequest(token=token.removesuffix(".ics")))
    user = int(found.user_id)
    events = [
        *await _tasks(BoundStub(clients.notifications, actor=user, timeout=timeout), user),
        *await _activities(BoundStub(clients.activities, actor=user, timeout=timeout), user),
        *await _deadlines(BoundStub(clients.deals, actor=user, timeout=timeout), user),
    ]
    body = render(events, name="Dealflow", now=datetime.now(UTC))
    return Response(body, media_type="text/calendar; charset=utf-8")


async def _tasks(notifications: BoundStub, user: int) -> list[Event]:
    reply = await notifications.ListTasks(
        notifications_pb2.ListTasksRequest(assignee_id=str(user), status="open", limit=FEED_LIMIT)
    )
    return [
        Event(
            f"task-{t.id}@dealflow",
            f"Task: {t.title}",
            t.deadline.ToDatetime(tzinfo=UTC),
            t.description,
        )
        for t in reply.tasks
        if t.HasField("deadline")
    ]


async def _activities(activities: BoundStub, user: int) -> list[Event]:
    reply = await activities.ListActivities(
        activities_pb2.ListActivitiesRequest(
            assignee_id=str(user), status="planned", limit=FEED_LIMIT
        )
    )
    return [
        Event(
            f"activity-{a.id}@dealflow",
            f"{a.kind.capitalize()}: {a.subject or 'planned'}",
            a.due_at.ToDatetime(tzinfo=UTC),
            a.notes,
        )
        for a in reply.activities
        if a.HasField("due_at")
    ]


async def _deadlines(deals: BoundStub, user: int) -> list[Event]:
    """Every date field of the user's deals, an all-day event (a date-time one, timed)."""
    reply = await deals.ListDeals(
        deals_pb2.ListDealsRequest(responsible_id=str(user), limit=FEED_LIMIT)
    )
    names: dict[str, dict[str, str]] = {}
    events: list[Event] = []
    for deal in reply.deals:
        if deal.pipeline_id not in names:
            pipeline = await deals.GetPipeline(deals_pb2.GetPipelineRequest(id=deal.pipeline_id))
            names[deal.pipeline_id] = {
                f.code: f.name for f in pipeline.fields if f.type in DATE_TYPES
            }
        fields = from_struct(deal.fields)
        for code, label in names[deal.pipeline_id].items():
            when = _moment(fields.get(code))
            if when is not None:
                events.append(
                    Event(f"deal-{deal.id}-{code}@dealflow", f"{deal.title}: {label}", when)
                )
    return events


def _moment(value: Any) -> datetime | date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value)
    except ValueError:
        return None
