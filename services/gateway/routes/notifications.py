"""The caller's own notification feed."""

from __future__ import annotations

from typing import Annotated

from dealflow.notifications.v1 import notifications_pb2
from fastapi import APIRouter, Query

from services.gateway.deps import CurrentUser, Notifications
from services.gateway.problems import COMMON_RESPONSES
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import Page, cursor_or_none
from services.gateway.schemas.tasks import NotificationOut

router = APIRouter(
    prefix=API_PREFIX + "/notifications", tags=["notifications"], responses=COMMON_RESPONSES
)


@router.get("")
async def feed(
    user: CurrentUser,
    notifications: Notifications,
    cursor: str = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[NotificationOut]:
    reply = await notifications.ListNotifications(
        notifications_pb2.ListNotificationsRequest(user_id=str(user.id), cursor=cursor, limit=limit)
    )
    return Page(
        items=[NotificationOut.of(n) for n in reply.notifications],
        next_cursor=cursor_or_none(reply.next_cursor),
    )
