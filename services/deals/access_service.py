"""Use cases of access: roles as data, and a user's effective access (what they see and may
do), which the deals service enforces itself and other services ask for."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common.access import Access, Level, Permission, Scope
from services.common.db import UnitOfWork, utcnow
from services.common.errors import FieldProblem, Unauthenticated, ValidationFailed
from services.deals import access_repository as repo
from services.deals import org_repository, repository
from services.deals.audit import record
from services.deals.domain.roles import (
    DEFAULT_ROLES,
    Effective,
    Role,
    Visible,
    department_subtree,
    effective,
)
from services.deals.domain.roles import validate_role as validate
from services.deals.tables import outbox


@dataclass(frozen=True)
class DealAccess:
    """What the deals service needs to filter and check deals for one user."""

    access: Access
    rights: Effective
    # per visibility level, the owners whose deals the user sees (None: everyone)
    owners: dict[Level, frozenset[int] | None]

    def owners_in(self, pipeline_id: int) -> frozenset[int] | None:
        return self.owners[self.rights.visibility_in(pipeline_id)]

    def sees(self, *, pipeline_id: int, responsible_id: int) -> bool:
        owners = self.owners_in(pipeline_id)
        return owners is None or responsible_id in owners

    def visible(self) -> Visible:
        """The owners whose deals the user sees, per pipeline, for a list query."""
        return Visible(
            default=self.owners[self.rights.visibility],
            pipelines={p: self.owners[level] for p, level in self.rights.pipelines.items()},
        )


class AccessCache:
    """Users' deal access for `ttl` seconds: computing it takes four queries, and every call
    on a user's behalf needs it. A change of roles or of the org structure made through this
    process clears it at once; other replicas catch up within `ttl`."""

    def __init__(self, ttl: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._items: dict[int, tuple[float, DealAccess]] = {}

    async def get(self, conn: AsyncConnection, user_id: int) -> DealAccess:
        now = self._clock()
        hit = self._items.get(user_id)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        found = await deal_access(conn, user_id)
        if len(self._items) > 10_000:
            self._items.clear()
        self._items[user_id] = (now, found)
        return found

    def clear(self) -> None:
        self._items.clear()


class AccessService:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Callable[[], datetime] = utcnow,
        cache: AccessCache | None = None,
    ) -> None:
        self._engine = engine
        self._now = clock
        self.cache = cache or AccessCache()

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, outbox)

    async def ensure_default_roles(self) -> None:
        """A new install gets the default roles; an install that has roles keeps its own."""
        async with self._uow() as uow:
            if await repo.any_role(uow.conn):
                return
            for role in DEFAULT_ROLES:
                await repo.save_role(uow.conn, role, self._now())

    async def list_roles(self) -> list[Role]:
        """Every role with its pipeline rules."""
        async with self._engine.connect() as conn:
            return await repo.load_roles(conn)

    async def put_role(
        self,
        *,
        actor_id: int | None,
        code: str,
        name: str,
        visibility: str,
        permissions: Iterable[str],
        pipelines: Iterable[tuple[int, str, Iterable[int]]],
    ) -> Role:
        """Create or replace a role; recorded in the audit log with before and after."""
        role = validate(
            code=code,
            name=name,
            visibility=visibility,
            permissions=permissions,
            pipelines=pipelines,
        )
        async with self._uow() as uow:
            for pipeline_id in role.pipelines:
                if not await repository.pipeline_exists(uow.conn, pipeline_id):
                    raise ValidationFailed(FieldProblem("pipelines", f"no pipeline {pipeline_id}"))
            before = await repo.load_roles(uow.conn, [code])
            await repo.save_role(uow.conn, role, self._now())
            self.cache.clear()
            await record(
                uow.conn,
                at=self._now(),
                actor_id=actor_id,
                action="roles.put",
                subject=("role", code),
                before=_role_json(before[0]) if before else None,
                after=_role_json(role),
            )
        return role

    async def require(self, actor_id: int | None, permission: Permission) -> None:
        """PermissionDenied unless the actor has the permission (an internal call has all)."""
        if actor_id is not None:
            (await self.access_of(user_id=actor_id)).require(permission)

    async def access_of(self, *, user_id: int) -> Access:
        """A user's effective access; an unknown or inactive user has none."""
        return (await self.deal_access(user_id=user_id)).access

    async def deal_access(self, *, user_id: int) -> DealAccess:
        async with self._engine.connect() as conn:
            return await self.cache.get(conn, user_id)


async def deal_access(conn: AsyncConnection, user_id: int) -> DealAccess:
    user = await org_repository.get_user(conn, user_id)
    if user is None or not user.active:
        raise Unauthenticated("the user does not exist or is not active")
    rights = effective(await repo.load_roles(conn, user.roles))
    levels = {rights.visibility, *rights.pipelines.values()}
    owners: dict[Level, frozenset[int] | None] = {
        Level.NONE: frozenset(),
        Level.OWN: frozenset({user.id}),
        Level.ALL: None,
    }
    if Level.DEPARTMENT in levels and user.department_id is not None:
        subtree = department_subtree(user.department_id, await repo.department_parents(conn))
        owners[Level.DEPARTMENT] = frozenset(await repo.user_ids_in(conn, subtree) | {user.id})
    else:
        owners[Level.DEPARTMENT] = frozenset({user.id})
    default = owners[rights.visibility]
    access = Access(
        user_id=user.id,
        roles=frozenset(user.roles),
        department_id=user.department_id,
        scope=_scope(default),
        permissions=rights.permissions,
        deal_pipelines={p: _scope(owners[level]) for p, level in rights.pipelines.items()},
    )
    return DealAccess(access, rights, owners)


def _role_json(role: Role) -> dict[str, object]:
    return {
        "code": role.code,
        "name": role.name,
        "visibility": role.visibility.value,
        "permissions": sorted(role.permissions),
        "pipelines": [
            {
                "pipeline_id": r.pipeline_id,
                "visibility": r.visibility.value,
                "move_to_stage_ids": sorted(r.move_to_stage_ids),
            }
            for r in role.pipelines.values()
        ],
    }


def _scope(owners: frozenset[int] | None) -> Scope:
    return Scope.all() if owners is None else Scope(False, owners)
