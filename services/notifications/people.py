"""What the notifications service asks the deals service about people: a user's access,
whether they see a deal, who stands in for an absent user, a deal's facts for its chat,
the deal a file belongs to, and a user's e-mail address."""

from __future__ import annotations

from typing import Protocol

from dealflow.deals.v1 import deals_pb2, deals_pb2_grpc, files_pb2, files_pb2_grpc

from services.common.access import Access
from services.common.access_client import deals_resolver
from services.common.errors import NotFound, PermissionDenied, Unauthenticated
from services.common.grpc_client import call
from services.common.ids import optional_id
from services.notifications.domain.chat import DealFacts

TIMEOUT = 5.0


class People(Protocol):
    async def access(self, user_id: int) -> Access: ...

    async def sees_deal(self, deal_id: int, actor_id: int) -> bool: ...

    async def stand_in(self, user_id: int) -> int | None:
        """Who acts for the user now: the user while present, their substitute while away."""
        ...

    async def deal_facts(self, deal_id: int) -> DealFacts | None: ...

    async def file_deal(self, file_id: int) -> int | None:
        """The deal a file belongs to (None: no such file, or a lead's)."""
        ...

    async def email_of(self, user_id: int) -> str | None: ...


class DealsPeople:
    """People as the deals service knows them; access answers are cached for a few seconds."""

    def __init__(
        self,
        stub: deals_pb2_grpc.DealsServiceStub,
        files: files_pb2_grpc.FilesServiceStub | None = None,
    ) -> None:
        self._stub = stub
        self._files = files
        self._access = deals_resolver(stub)

    async def access(self, user_id: int) -> Access:
        return await self._access(user_id)

    async def sees_deal(self, deal_id: int, actor_id: int) -> bool:
        request = deals_pb2.GetDealRequest(id=str(deal_id))
        try:
            await call(self._stub.GetDeal, request, actor=actor_id, timeout=TIMEOUT)
        except (NotFound, PermissionDenied, Unauthenticated):  # an unknown or inactive user
            return False
        return True

    async def stand_in(self, user_id: int) -> int | None:
        request = deals_pb2.FindStandInRequest(user_id=str(user_id))
        try:
            user = await call(self._stub.FindStandIn, request, timeout=TIMEOUT)
        except NotFound:
            return None
        return int(user.id) if user.id else None

    async def deal_facts(self, deal_id: int) -> DealFacts | None:
        request = deals_pb2.GetDealRequest(id=str(deal_id))
        try:
            deal = await call(self._stub.GetDeal, request, timeout=TIMEOUT)
        except NotFound:
            return None
        return DealFacts(
            deal_id=int(deal.id),
            title=deal.title,
            pipeline_id=int(deal.pipeline_id),
            stage_id=int(deal.stage_id),
            responsible_id=int(deal.responsible_id),
            amount=deal.amount or None,
            currency=deal.currency or None,
            company_name=deal.company_name or None,
            contact_name=deal.contact_name or None,
        )

    async def file_deal(self, file_id: int) -> int | None:
        if self._files is None:
            return None
        request = files_pb2.GetFileRequest(id=str(file_id))
        try:
            found = await call(self._files.GetFile, request, timeout=TIMEOUT)
        except NotFound:
            return None
        return optional_id(found.deal_id, "deal_id")

    async def email_of(self, user_id: int) -> str | None:
        request = deals_pb2.GetUserRequest(id=str(user_id))
        try:
            user = await call(self._stub.GetUser, request, timeout=TIMEOUT)
        except NotFound:
            return None
        return str(user.email) or None
