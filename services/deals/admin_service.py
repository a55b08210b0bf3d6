"""Use cases of the admin-editable lists (e.g. shipping direction → operator)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.db import UnitOfWork, utcnow
from services.common.errors import (
    AlreadyExists,
    NotFound,
)
from services.common.pagination import Page, decode_cursor
from services.deals import org_repository as repo
from services.deals.domain.lists import AdminList, ListItem, item_values, new_list
from services.deals.tables import outbox


class AdminService:
    def __init__(self, engine: AsyncEngine, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._engine = engine
        self._now = clock

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, outbox)

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
