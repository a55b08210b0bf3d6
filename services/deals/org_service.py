"""Use cases of the org structure: users, departments, heads and stand-ins. Every change
is written to the audit log in its own transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common.db import UnitOfWork, utcnow
from services.common.errors import AlreadyExists, FieldProblem, NotFound, ValidationFailed
from services.common.pagination import Page, decode_cursor
from services.deals import access_repository
from services.deals import org_repository as repo
from services.deals.audit import record
from services.deals.domain.org import (
    FALLBACK_ROLES,
    Department,
    User,
    check_name,
    check_password,
    clean_roles,
    creates_cycle,
    head_in_chain,
    new_department_name,
    new_user,
    normalize_email,
)
from services.deals.domain.roles import department_subtree
from services.deals.passwords import hash_password
from services.deals.tables import outbox

USER_FIELDS = ("name", "roles", "department_id", "active", "absent", "substitute_id", "password")
DEPARTMENT_FIELDS = ("name", "parent_id", "head_id")


class OrgService:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Callable[[], datetime] = utcnow,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self._engine = engine
        self._now = clock
        self._on_change = on_change  # who sees what may have changed

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, outbox)

    # ---- users ----
    async def create_user(
        self,
        *,
        actor_id: int | None,
        email: str,
        name: str,
        password: str,
        roles: list[str],
        department_id: int | None,
    ) -> User:
        """A user who can sign in; the e-mail is unique regardless of case."""
        draft = new_user(email=email, name=name, password=password, roles=roles)
        password_hash = await hash_password(draft.password)
        async with self._uow() as uow:
            await _check_refs(uow.conn, roles=draft.roles, department_id=department_id)
            user = await repo.insert_user(
                uow.conn,
                draft,
                password_hash=password_hash,
                department_id=department_id,
                now=self._now(),
            )
            if user is None:
                raise AlreadyExists(f"a user with e-mail {draft.email} exists")
            await self._audit(uow.conn, actor_id, "users.create", ("user", user.id), None, user)
        return user

    async def update_user(
        self, *, actor_id: int | None, user_id: int, changes: dict[str, object]
    ) -> User:
        """Change the named fields of a user (an unknown field is refused, not ignored)."""
        unknown = sorted(set(changes) - set(USER_FIELDS))
        if unknown:
            raise ValidationFailed([FieldProblem(f, "cannot be changed") for f in unknown])
        password = changes.pop("password", None)
        password_hash = None
        if password is not None:
            check_password(str(password))
            password_hash = await hash_password(str(password))
        async with self._uow() as uow:
            before = await repo.get_user_for_update(uow.conn, user_id)
            if before is None:
                raise NotFound(f"user {user_id} not found")
            after = _changed_user(before, changes)
            await _check_refs(
                uow.conn,
                roles=after.roles if "roles" in changes else (),
                department_id=after.department_id if "department_id" in changes else None,
                substitute_id=after.substitute_id,
                user_id=user_id,
            )
            await repo.save_user(uow.conn, after, password_hash=password_hash)
            action = "users.permissions" if "roles" in changes else "users.update"
            await self._audit(uow.conn, actor_id, action, ("user", user_id), before, after)
        return after

    async def get_user(self, *, user_id: int) -> User:
        """One user."""
        async with self._engine.connect() as conn:
            user = await repo.get_user(conn, user_id)
        if user is None:
            raise NotFound(f"user {user_id} not found")
        return user

    async def list_users(
        self,
        *,
        role: str,
        department_id: int | None,
        include_subdepartments: bool,
        include_inactive: bool,
        q: str,
        cursor: str,
        limit: int,
    ) -> Page[User]:
        """Users with a role, in a department (and below), newest first."""
        before = decode_cursor(cursor) if cursor else None
        async with self._engine.connect() as conn:
            departments: set[int] | None = None
            if department_id is not None:
                departments = {department_id}
                if include_subdepartments:
                    parents = await access_repository.department_parents(conn)
                    departments = department_subtree(department_id, parents)
            found = await repo.find_users(
                conn,
                role=role,
                department_ids=departments,
                include_inactive=include_inactive,
                q=q,
                before_id=before,
                limit=limit + 1,
            )
        return Page.of(found, limit, key=lambda u: u.id)

    async def ensure_admin(self, *, email: str, password: str) -> User:
        """The bootstrap administrator: created once, left alone afterwards."""
        try:
            return await self.create_user(
                actor_id=None,
                email=email,
                name="Administrator",
                password=password,
                roles=["admin"],
                department_id=None,
            )
        except AlreadyExists:
            async with self._engine.connect() as conn:
                found = await repo.user_with_hash(conn, normalize_email(email))
            assert found is not None
            return found[0]

    async def find_head(self, *, user_id: int) -> User:
        """Who a user reports to: up the department chain, then a head of sales, then an
        admin."""
        async with self._engine.connect() as conn:
            user = await repo.get_user(conn, user_id)
            if user is None:
                raise NotFound(f"user {user_id} not found")
            departments = await repo.all_departments(conn)
            heads = [d.head_id for d in departments.values() if d.head_id is not None]
            active = await repo.active_ids(conn, heads) if heads else set()
            head_id = head_in_chain(user, departments, lambda uid: uid in active)
            if head_id is not None:
                head = await repo.get_user(conn, head_id)
                if head is not None:
                    return head
            for role in FALLBACK_ROLES:
                head = await repo.first_with_role(conn, role, besides=user.id)
                if head is not None:
                    return head
        raise NotFound(f"nobody heads user {user_id}")

    async def find_stand_in(self, *, user_id: int) -> User:
        """The user who acts for `user_id` now: the substitute while the user is absent."""
        user = await self.get_user(user_id=user_id)
        stand_in = user.stand_in()
        return user if stand_in == user.id else await self.get_user(user_id=stand_in)

    # ---- departments ----
    async def create_department(
        self, *, actor_id: int | None, name: str, parent_id: int | None, head_id: int | None
    ) -> Department:
        """A department, optionally under a parent and with a head."""
        clean = new_department_name(name)
        async with self._uow() as uow:
            await _check_department_refs(uow.conn, parent_id=parent_id, head_id=head_id)
            department = await repo.insert_department(
                uow.conn, name=clean, parent_id=parent_id, head_id=head_id, now=self._now()
            )
            subject = ("department", department.id)
            await self._audit(uow.conn, actor_id, "departments.create", subject, None, department)
            return department

    async def update_department(
        self, *, actor_id: int | None, department_id: int, changes: dict[str, object]
    ) -> Department:
        """Rename, move under another parent (no loops) or change the head."""
        unknown = sorted(set(changes) - set(DEPARTMENT_FIELDS))
        if unknown:
            raise ValidationFailed([FieldProblem(f, "cannot be changed") for f in unknown])
        async with self._uow() as uow:
            all_departments = await repo.all_departments(uow.conn)
            before = all_departments.get(department_id)
            if before is None:
                raise NotFound(f"department {department_id} not found")
            after = replace(before, **changes)  # type: ignore[arg-type]
            if "name" in changes:
                after = replace(after, name=new_department_name(str(changes["name"])))
            await _check_department_refs(uow.conn, parent_id=after.parent_id, head_id=after.head_id)
            parents = {d.id: d.parent_id for d in all_departments.values()}
            if after.parent_id is not None and creates_cycle(
                department_id, after.parent_id, parents
            ):
                raise ValidationFailed(FieldProblem("parent_id", "would make a loop"))
            await repo.save_department(uow.conn, after)
            subject = ("department", department_id)
            await self._audit(uow.conn, actor_id, "departments.update", subject, before, after)
            return after

    async def list_departments(self) -> list[Department]:
        """Every department (an org has tens or hundreds)."""
        async with self._engine.connect() as conn:
            return sorted((await repo.all_departments(conn)).values(), key=lambda d: d.id)

    async def _audit(
        self,
        conn: AsyncConnection,
        actor_id: int | None,
        action: str,
        subject: tuple[str, int],
        before: User | Department | None,
        after: User | Department | None,
    ) -> None:
        self._on_change()
        await record(
            conn,
            at=self._now(),
            actor_id=actor_id,
            action=action,
            subject=subject,
            before=_json(before),
            after=_json(after),
        )


def _json(item: User | Department | None) -> dict[str, object] | None:
    if item is None:
        return None
    if isinstance(item, User):
        return item.audit()
    return {"name": item.name, "parent_id": item.parent_id, "head_id": item.head_id}


def _changed_user(user: User, changes: dict[str, object]) -> User:
    updated = replace(user, **changes)  # type: ignore[arg-type]
    if "name" in changes:
        updated = replace(updated, name=check_name(str(changes["name"])))
    if "roles" in changes:
        updated = replace(updated, roles=clean_roles(list(updated.roles)))
    if updated.substitute_id == user.id:
        raise ValidationFailed(FieldProblem("substitute_id", "a user cannot substitute themself"))
    return updated


async def _check_refs(
    conn: AsyncConnection,
    *,
    roles: tuple[str, ...] = (),
    department_id: int | None = None,
    substitute_id: int | None = None,
    user_id: int | None = None,
) -> None:
    problems: list[FieldProblem] = []
    missing = set(roles) - await access_repository.existing_codes(conn, roles) if roles else set()
    problems += [FieldProblem("roles", f"no role {code!r}") for code in sorted(missing)]
    if department_id is not None and not await repo.department_exists(conn, department_id):
        problems.append(FieldProblem("department_id", "no such department"))
    if substitute_id is not None and substitute_id != user_id:
        substitute = await repo.get_user(conn, substitute_id)
        if substitute is None or not substitute.active:
            problems.append(FieldProblem("substitute_id", "no such active user"))
    if problems:
        raise ValidationFailed(problems)


async def _check_department_refs(
    conn: AsyncConnection, *, parent_id: int | None, head_id: int | None
) -> None:
    problems = []
    if parent_id is not None and not await repo.department_exists(conn, parent_id):
        problems.append(FieldProblem("parent_id", "no such department"))
    if head_id is not None and await repo.get_user(conn, head_id) is None:
        problems.append(FieldProblem("head_id", "no such user"))
    if problems:
        raise ValidationFailed(problems)
