"""Use cases of the org structure (users, departments, heads) and the admin lists."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.db import UnitOfWork, utcnow
from services.common.errors import (
    AlreadyExists,
    FieldProblem,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from services.common.pagination import Page, decode_cursor
from services.deals import org_repository as repo
from services.deals.domain.lists import AdminList, ListItem, item_values, new_list
from services.deals.domain.org import (
    FALLBACK_ROLES,
    Department,
    User,
    head_in_chain,
    new_department_name,
    new_user,
    normalize_email,
)
from services.deals.passwords import hash_password, verify_password
from services.deals.tables import outbox

BAD_CREDENTIALS = "wrong e-mail or password"


class AdminService:
    def __init__(self, engine: AsyncEngine, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._engine = engine
        self._now = clock

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, outbox)

    # ---- users and departments ----
    async def create_user(
        self, *, email: str, name: str, password: str, roles: list[str], department_id: int | None
    ) -> User:
        """A user who can sign in; the e-mail is unique regardless of case."""
        draft = new_user(email=email, name=name, password=password, roles=roles)
        password_hash = await hash_password(draft.password)
        async with self._uow() as uow:
            if department_id is not None and not await repo.department_exists(
                uow.conn, department_id
            ):
                raise ValidationFailed(FieldProblem("department_id", "no such department"))
            user = await repo.insert_user(
                uow.conn,
                draft,
                password_hash=password_hash,
                department_id=department_id,
                now=self._now(),
            )
        if user is None:
            raise AlreadyExists(f"a user with e-mail {draft.email} exists")
        return user

    async def get_user(self, *, user_id: int) -> User:
        """One user."""
        async with self._engine.connect() as conn:
            user = await repo.get_user(conn, user_id)
        if user is None:
            raise NotFound(f"user {user_id} not found")
        return user

    async def authenticate(self, *, email: str, password: str) -> User:
        """The active user with these credentials; one answer for every refusal."""
        async with self._engine.connect() as conn:
            found = await repo.user_with_hash(conn, normalize_email(email))
        ok = await verify_password(password, found[1] if found else None)
        if found is None or not ok or not found[0].active:
            raise Unauthenticated(BAD_CREDENTIALS)
        return found[0]

    async def ensure_admin(self, *, email: str, password: str) -> User:
        """The bootstrap administrator: created once, left alone afterwards."""
        try:
            return await self.create_user(
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

    async def create_department(
        self, *, name: str, parent_id: int | None, head_id: int | None
    ) -> Department:
        """A department, optionally under a parent and with a head."""
        clean = new_department_name(name)
        async with self._uow() as uow:
            problems = []
            if parent_id is not None and not await repo.department_exists(uow.conn, parent_id):
                problems.append(FieldProblem("parent_id", "no such department"))
            if head_id is not None and await repo.get_user(uow.conn, head_id) is None:
                problems.append(FieldProblem("head_id", "no such user"))
            if problems:
                raise ValidationFailed(problems)
            return await repo.insert_department(
                uow.conn, name=clean, parent_id=parent_id, head_id=head_id, now=self._now()
            )

    # ---- admin lists ----
    async def create_list(
        self, *, code: str, name: str, columns: list[tuple[str, str, str]]
    ) -> AdminList:
        """A list with typed columns."""
        admin_list = new_list(code, name, columns)
        async with self._uow() as uow:
            if not await repo.insert_list(uow.conn, admin_list, self._now()):
                raise AlreadyExists(f"list {code} exists")
        return admin_list

    async def all_lists(self) -> list[AdminList]:
        """Every admin list, by code (there are tens, not thousands)."""
        async with self._engine.connect() as conn:
            return await repo.all_lists(conn)

    async def get_list(self, *, code: str) -> AdminList:
        """One list and its columns."""
        async with self._engine.connect() as conn:
            return _list(await repo.get_list(conn, code), code)

    async def list_items(self, *, code: str, cursor: str, limit: int) -> Page[ListItem]:
        """A list's rows, newest first."""
        before = decode_cursor(cursor) if cursor else None
        async with self._engine.connect() as conn:
            _list(await repo.get_list(conn, code), code)
            rows = await repo.list_items_of(conn, code, before_id=before, limit=limit + 1)
        return Page.of(rows, limit, key=lambda i: i.id)

    async def create_list_item(self, *, code: str, values: dict[str, Any]) -> ListItem:
        """A row of a list, each value checked against its column."""
        async with self._uow() as uow:
            admin_list = _list(await repo.get_list(uow.conn, code), code)
            clean = item_values(admin_list, {}, values)
            return await repo.insert_item(uow.conn, list_code=code, values=clean, now=self._now())

    async def update_list_item(
        self, *, code: str, item_id: int, values: dict[str, Any]
    ) -> ListItem:
        """Merge values into a row (None clears a column)."""
        async with self._uow() as uow:
            admin_list = _list(await repo.get_list(uow.conn, code), code)
            item = await repo.get_item(uow.conn, code, item_id, for_update=True)
            if item is None:
                raise NotFound(f"item {item_id} of list {code} not found")
            updated = ListItem(item.id, code, item_values(admin_list, item.values, values))
            await repo.save_item(uow.conn, updated)
            return updated


def _list(found: AdminList | None, code: str) -> AdminList:
    if found is None:
        raise NotFound(f"list {code} not found")
    return found
