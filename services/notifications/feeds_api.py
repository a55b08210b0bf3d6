"""gRPC servicer of CalendarFeedsService (next to NotificationsService): mapping only. A
user manages their own feed; the gateway (no actor) resolves tokens."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
from dealflow.notifications.v1 import calendar_feeds_pb2 as pb
from dealflow.notifications.v1 import calendar_feeds_pb2_grpc as pb_grpc

from services.common.errors import PermissionDenied
from services.common.grpc_server import actor_id
from services.common.ids import parse_id
from services.common.protoconv import to_timestamp
from services.notifications.feeds_service import FeedsService

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


def _own(request: Any, context: Ctx) -> int:
    user_id = parse_id(request.user_id, "user_id")
    actor = actor_id(context)
    if actor is not None and actor != user_id:
        raise PermissionDenied("a user manages their own calendar feed only")
    return user_id


class FeedsApi(pb_grpc.CalendarFeedsServiceServicer):  # type: ignore[misc]
    def __init__(self, service: FeedsService) -> None:
        self._service = service

    async def CreateFeed(self, request: pb.CreateFeedRequest, context: Ctx) -> pb.CalendarFeed:
        token, made = await self._service.create(user_id=_own(request, context))
        return pb.CalendarFeed(token=token, created_at=to_timestamp(made))

    async def RevokeFeed(
        self, request: pb.RevokeFeedRequest, context: Ctx
    ) -> pb.RevokeFeedResponse:
        return pb.RevokeFeedResponse(
            revoked=await self._service.revoke(user_id=_own(request, context))
        )

    async def ResolveFeed(
        self, request: pb.ResolveFeedRequest, context: Ctx
    ) -> pb.ResolveFeedResponse:
        if actor_id(context) is not None:
            raise PermissionDenied("only the gateway resolves a feed's token")
        user_id = await self._service.resolve(token=request.token)
        return pb.ResolveFeedResponse(user_id=str(user_id))


def register_feeds(server: grpc.aio.Server, service: FeedsService) -> str:
    pb_grpc.add_CalendarFeedsServiceServicer_to_server(FeedsApi(service), server)
    return str(pb.DESCRIPTOR.services_by_name["CalendarFeedsService"].full_name)
