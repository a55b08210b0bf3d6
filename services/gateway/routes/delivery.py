"""How a user's notifications reach them besides the in-app feed: channels per kind
(in-app, e-mail, webhook), their webhooks (signed: `Dealflow-Signature: t=<unix>,v1=<hex>`,
HMAC-SHA256 of `<t>.<body>` with the webhook's secret) and the log of every delivery. Each
user manages their own."""

from __future__ import annotations

from typing import Annotated

from dealflow.notifications.v1 import notifications_pb2 as pb
from fastapi import APIRouter, Query

from services.gateway.deps import CurrentUser, Notifications
from services.gateway.problems import COMMON_RESPONSES
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import Page, cursor_or_none
from services.gateway.schemas.delivery import (
    DeliveryOut,
    PreferencesIn,
    PreferencesOut,
    WebhookIn,
    WebhookOut,
)

router = APIRouter(prefix=API_PREFIX, tags=["notifications"], responses=COMMON_RESPONSES)


@router.get("/notification-preferences")
async def get_preferences(user: CurrentUser, notifications: Notifications) -> PreferencesOut:
    request = pb.GetPreferencesRequest(user_id=str(user.id))
    return PreferencesOut.of(await notifications.GetPreferences(request))


@router.put("/notification-preferences")
async def put_preferences(
    body: PreferencesIn, user: CurrentUser, notifications: Notifications
) -> PreferencesOut:
    """Replace your channels per notification kind."""
    request = pb.Preferences(
        user_id=str(user.id),
        choices=[
            pb.ChannelChoice(kind=kind, channels=list(channels))
            for kind, channels in body.preferences.items()
        ],
    )
    return PreferencesOut.of(await notifications.PutPreferences(request))


@router.post("/webhooks", status_code=201)
async def create_webhook(
    body: WebhookIn, user: CurrentUser, notifications: Notifications
) -> WebhookOut:
    """Register a webhook (a public http(s) URL); the answer holds its signing secret, once."""
    request = pb.CreateWebhookRequest(user_id=str(user.id), url=body.url)
    return WebhookOut.of(await notifications.CreateWebhook(request))


@router.get("/webhooks")
async def list_webhooks(user: CurrentUser, notifications: Notifications) -> list[WebhookOut]:
    reply = await notifications.ListWebhooks(pb.ListWebhooksRequest(user_id=str(user.id)))
    return [WebhookOut.of(w) for w in reply.webhooks]


@router.get("/deliveries")
async def list_deliveries(
    user: CurrentUser,
    notifications: Notifications,
    cursor: str = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[DeliveryOut]:
    """Your deliveries by e-mail and webhook, newest first, with every attempt."""
    request = pb.ListDeliveriesRequest(user_id=str(user.id), cursor=cursor, limit=limit)
    reply = await notifications.ListDeliveries(request)
    return Page(
        items=[DeliveryOut.of(d) for d in reply.deliveries],
        next_cursor=cursor_or_none(reply.next_cursor),
    )
