"""What every finance use case needs: the engine, the clock, who the caller is and what
they may do (asked of the deals service), and who owns a deal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.access import Access, Permission, Scope
from services.common.db import UnitOfWork, utcnow
from services.common.errors import FieldProblem, ValidationFailed
from services.finance.tables import outbox

Resolver = Callable[[int], Awaitable[Access]]
# The responsible user of a deal; NotFound when there is no such deal.
DealOwner = Callable[[int], Awaitable[int]]


@dataclass
class Context:
    engine: AsyncEngine
    resolver: Resolver | None = None
    deal_owner: DealOwner | None = None
    clock: Callable[[], datetime] = field(default=utcnow)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine, outbox)

    async def access(self, actor_id: int | None) -> Access | None:
        """The caller's access; None for an internal caller (a workflow), which is trusted."""
        if actor_id is None:
            return None
        if self.resolver is None:
            raise RuntimeError("finance needs an access resolver to serve users")
        return await self.resolver(actor_id)

    async def owner(self, access: Access | None, deal_id: int | None, given: int | None) -> int:
        """Who a new record belongs to: the deal's responsible, else the caller (or, for an
        internal caller, the owner it names). The caller must see the deal."""
        if deal_id is not None:
            if self.deal_owner is None:
                raise RuntimeError("finance needs the deals service to link records to deals")
            owner = await self.deal_owner(deal_id)
            require_visible(access, owner, f"deal {deal_id}")
            return owner
        if access is not None:
            return access.user_id
        if given is None:
            raise ValidationFailed(FieldProblem("owner_id", "is required without a deal"))
        return given


def require(access: Access | None, permission: Permission) -> None:
    if access is not None:
        access.require(permission)


def require_visible(access: Access | None, owner_id: int, what: str) -> None:
    if access is not None:
        access.require_visible(owner_id, what)


def scope_of(access: Access | None) -> Scope | None:
    return None if access is None else access.scope


def actor_of(access: Access | None) -> int | None:
    return None if access is None else access.user_id
