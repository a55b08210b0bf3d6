"""Approval chain templates: data edited through the API by those with
approvals.templates.edit; the chain workflow reads the one it runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from process_rules.approval_templates import ChainTemplate, parse_template
from services.approvals import repository
from services.approvals.tables import outbox, templates
from services.common.access import Access, Permission
from services.common.db import PendingEvent, UnitOfWork, utcnow
from services.common.errors import NotFound

Resolve = Callable[[int], Awaitable[Access]]


class TemplatesService:
    def __init__(self, engine: AsyncEngine, *, access: Resolve) -> None:
        self._engine = engine
        self._access = access

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, outbox)

    async def _require(self, actor_id: int | None, permission: Permission) -> None:
        if actor_id is not None:
            (await self._access(actor_id)).require(permission)

    async def put_template(
        self, *, actor_id: int | None, code: str, name: str, definition: dict[str, Any]
    ) -> ChainTemplate:
        """Create a template or replace its definition (its version goes up)."""
        await self._require(actor_id, Permission.APPROVAL_TEMPLATES_EDIT)
        template = parse_template(code, name, definition)
        now = utcnow()
        async with self._uow() as uow:
            new = insert(templates).values(
                code=code,
                name=template.name,
                definition=definition,
                version=1,
                created_at=now,
                updated_at=now,
            )
            stmt = new.on_conflict_do_update(
                index_elements=[templates.c.code],
                set_={
                    "name": new.excluded.name,
                    "definition": new.excluded.definition,
                    "version": templates.c.version + 1,
                    "updated_at": now,
                },
            ).returning(templates.c.version)
            template.version = (await uow.conn.execute(stmt)).scalar_one()
            uow.emit(
                PendingEvent(
                    type="approvals.template.saved",
                    subject=f"template/{code}",
                    data={"code": code, "version": template.version, "definition": definition},
                    actor=str(actor_id or ""),
                )
            )
        return template

    async def get_template(self, *, code: str) -> ChainTemplate:
        """One template, as the chain workflow runs it."""
        async with self._engine.connect() as conn:
            row = await repository.get_template_row(conn, code)
        if row is None:
            raise NotFound(f"approval template {code!r} not found")
        return _template(row)

    async def list_templates(self) -> list[ChainTemplate]:
        async with self._engine.connect() as conn:
            return [_template(r) for r in await repository.list_template_rows(conn)]

    async def delete_template(self, *, actor_id: int | None, code: str) -> None:
        """Remove a template; running chains keep the copy they started with."""
        await self._require(actor_id, Permission.APPROVAL_TEMPLATES_EDIT)
        async with self._uow() as uow:
            gone = await uow.conn.execute(templates.delete().where(templates.c.code == code))
            if gone.rowcount == 0:
                raise NotFound(f"approval template {code!r} not found")


def _template(row: Any) -> ChainTemplate:
    template = parse_template(row.code, row.name, row.definition)
    template.version = row.version
    return template
