"""What the notifications service asks the deals service about people: a user's access,
whether they see a deal, and who stands in for an absent user."""

from __future__ import annotations

from typing import Protocol

from dealflow.deals.v1 import deals_pb2, deals_pb2_grpc

from services.common.access import Access
from services.common.access_client import deals_resolver
from services.common.errors import NotFound
from services.common.grpc_client import call

TIMEOUT = 5.0


class People(Protocol):
    async def access(self, user_id: int) -> Access: ...

    async def sees_deal(self, deal_id: int, actor_id: int) -> bool: ...

    async def stand_in(self, user_id: int) -> int | None:
        """Who acts for the user now: the user while present, their substitute while away."""
        ...


class DealsPeople:
    """People as the deals service knows them; access answers are cached for a few seconds."""

    def __init__(self, stub: deals_pb2_grpc.DealsServiceStub) -> None:
        self._stub = stub
        self._access = deals_resolver(stub)

    async def access(self, user_id: int) -> Access:
        return await self._access(user_id)

    async def sees_deal(self, deal_id: int, actor_id: int) -> bool:
        request = deals_pb2.GetDealRequest(id=str(deal_id))
        try:
            await call(self._stub.GetDeal, request, actor=actor_id, timeout=TIMEOUT)
        except NotFound:
            return False
        return True

    async def stand_in(self, user_id: int) -> int | None:
        request = deals_pb2.FindStandInRequest(user_id=str(user_id))
        try:
            user = await call(self._stub.FindStandIn, request, timeout=TIMEOUT)
        except NotFound:
            return None
        return int(user.id) if user.id else None
