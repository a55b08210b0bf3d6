"""Who may see and do what: the shape every service uses to enforce access.

The deals service owns the org structure and the roles, so it computes an `Access` for a
user (`DealsService.GetAccess`); other services ask for it through `AccessResolver`, which
keeps answers for a few seconds. A call that carries no actor comes from inside the system
(a workflow activity, a consumer) and is trusted: only the gateway is a public door, and it
always sends the signed-in user as the actor.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from services.common.errors import NotFound, PermissionDenied


class Level(StrEnum):
    """How far a role sees records owned by others (Bitrix-style)."""

    NONE = "none"
    OWN = "own"
    DEPARTMENT = "department"  # the user's department and every department below it
    ALL = "all"


LEVEL_ORDER = (Level.NONE, Level.OWN, Level.DEPARTMENT, Level.ALL)


def widest(levels: Iterable[Level]) -> Level:
    return max(levels, key=LEVEL_ORDER.index, default=Level.NONE)


class Permission(StrEnum):
    """Actions a role may be granted. Visibility decides *which* records; these decide
    *what* may be done to a visible one."""

    DEALS_CREATE = "deals.create"
    DEALS_EDIT = "deals.edit"
    DEALS_MOVE = "deals.move"
    DEALS_DELETE = "deals.delete"
    DEALS_REASSIGN = "deals.reassign"  # set another user as responsible
    ORG_ADMIN = "org.admin"  # users, departments, roles, pipelines, fields, lists
    AUDIT_READ = "audit.read"
    APPROVAL_TEMPLATES_EDIT = "approvals.templates.edit"
    CONTRACTS_CREATE = "contracts.create"
    CONTRACTS_EDIT = "contracts.edit"
    INVOICES_REQUEST = "invoices.request"
    INVOICES_ISSUE = "invoices.issue"
    PAYMENTS_RECORD = "payments.record"
    PAYMENT_REQUESTS_CREATE = "payment_requests.create"
    EXPENSES_CREATE = "expenses.create"
    EXPENSES_PAY = "expenses.pay"
    SCHEDULE_RESET = "payment_schedule.reset"
    REPORTS_MARGIN = "reports.margin"
    FILES_UPLOAD = "files.upload"


@dataclass(frozen=True)
class Scope:
    """Whose records a user sees: everyone's, or those owned by one of `user_ids`."""

    everyone: bool
    user_ids: frozenset[int]

    def sees(self, owner_id: int | None) -> bool:
        return self.everyone or (owner_id is not None and owner_id in self.user_ids)

    @classmethod
    def all(cls) -> Scope:
        return cls(True, frozenset())

    @classmethod
    def only(cls, *user_ids: int) -> Scope:
        return cls(False, frozenset(user_ids))


@dataclass(frozen=True)
class Access:
    """A user's effective rights: the union of their roles. `scope` is the default
    visibility (pipelines may widen or narrow it for deals; other registries use it as is)."""

    user_id: int
    roles: frozenset[str]
    department_id: int | None
    scope: Scope
    permissions: frozenset[str]
    # Deals of these pipelines are seen by their own scope, the others by `scope`.
    deal_pipelines: Mapping[int, Scope] = field(default_factory=dict, hash=False, compare=False)

    def sees_deal(self, *, pipeline_id: int, responsible_id: int | None) -> bool:
        """Whether the user sees a deal (or lead) of that pipeline and responsible: the rule a
        deal list filters by (services/deals/repository.visible_condition)."""
        return self.deal_pipelines.get(pipeline_id, self.scope).sees(responsible_id)

    def can(self, permission: Permission | str) -> bool:
        return str(permission) in self.permissions

    def require(self, permission: Permission | str, what: str = "") -> None:
        """PermissionDenied (403) unless the user has the permission."""
        if not self.can(permission):
            raise PermissionDenied(what or f"this needs the {permission} permission")

    def require_visible(self, owner_id: int | None, what: str = "record") -> None:
        """NotFound (404, no existence leak) unless the user sees the owner's records."""
        if not self.scope.sees(owner_id):
            raise NotFound(f"{what} not found")

    @property
    def is_admin(self) -> bool:
        return self.can(Permission.ORG_ADMIN)


Fetch = Callable[[int], Awaitable[Access]]


class AccessResolver:
    """`await resolver(user_id)` → the user's Access, asked of the deals service and kept
    for `ttl` seconds (a role change or a deactivation takes effect within that time)."""

    def __init__(
        self, fetch: Fetch, *, ttl: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[int, tuple[float, Access]] = {}

    async def __call__(self, user_id: int) -> Access:
        now = self._clock()
        hit = self._cache.get(user_id)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        access = await self._fetch(user_id)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[user_id] = (now, access)
        return access

    def forget(self, user_id: int) -> None:
        self._cache.pop(user_id, None)
