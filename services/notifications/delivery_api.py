"""The delivery RPCs of NotificationsService (a part of its servicer): mapping only."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
from dealflow.notifications.v1 import notifications_pb2 as pb

from services.common.grpc_server import actor_id
from services.common.ids import parse_id
from services.common.pagination import clamp_limit
from services.common.protoconv import to_struct, to_timestamp
from services.notifications.delivery_service import DeliveryService, Webhook

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


def webhook_pb(w: Webhook) -> pb.Webhook:
    return pb.Webhook(
        id=str(w.id),
        user_id=str(w.user_id),
        url=w.url,
        secret=w.secret,
        active=w.active,
        created_at=to_timestamp(w.created_at),
    )


def preferences_pb(user_id: int, chosen: dict[str, tuple[str, ...]]) -> pb.Preferences:
    return pb.Preferences(
        user_id=str(user_id),
        choices=[pb.ChannelChoice(kind=k, channels=list(v)) for k, v in chosen.items()],
    )


def delivery_pb(row: Any) -> pb.Delivery:
    return pb.Delivery(
        id=str(row.id),
        notification_id=str(row.notification_id),
        channel=row.channel,
        webhook_id=str(row.webhook_id or ""),
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error or "",
        next_attempt_at=to_timestamp(row.next_attempt_at),
        delivered_at=to_timestamp(row.delivered_at),
        log=to_struct({"attempts": row.log}),
    )


class DeliveryApi:
    _delivery: DeliveryService

    async def GetPreferences(self, request: pb.GetPreferencesRequest, context: Ctx) -> Any:
        user = parse_id(request.user_id, "user_id")
        chosen = await self._delivery.preferences(user, actor=actor_id(context))
        return preferences_pb(user, chosen)

    async def PutPreferences(self, request: pb.Preferences, context: Ctx) -> Any:
        user = parse_id(request.user_id, "user_id")
        wanted = {c.kind: list(c.channels) for c in request.choices}
        chosen = await self._delivery.put_preferences(user, wanted, actor=actor_id(context))
        return preferences_pb(user, chosen)

    async def CreateWebhook(self, request: pb.CreateWebhookRequest, context: Ctx) -> Any:
        user = parse_id(request.user_id, "user_id")
        made = await self._delivery.create_webhook(user, request.url, actor=actor_id(context))
        return webhook_pb(made)

    async def ListWebhooks(self, request: pb.ListWebhooksRequest, context: Ctx) -> Any:
        user = parse_id(request.user_id, "user_id")
        found = await self._delivery.list_webhooks(user, actor=actor_id(context))
        return pb.ListWebhooksResponse(webhooks=[webhook_pb(w) for w in found])

    async def ListDeliveries(self, request: pb.ListDeliveriesRequest, context: Ctx) -> Any:
        page = await self._delivery.deliveries(
            parse_id(request.user_id, "user_id"),
            actor=actor_id(context),
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        return pb.ListDeliveriesResponse(
            deliveries=[delivery_pb(r) for r in page.items], next_cursor=page.next_cursor
        )
