"""Files of deals: metadata of blobs in the blob store, attached to a deal and optionally to
its tasks, decisions and contracts. A file is seen by whoever sees its deal."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common.access import Permission
from services.common.creations import Once, first_made, remember
from services.common.db import PendingEvent, UnitOfWork, utcnow
from services.common.errors import FieldProblem, NotFound, PermissionDenied, ValidationFailed
from services.common.pagination import Page, decode_cursor
from services.deals.domain.files import safe_file_name
from services.deals.folders_repository import folder_in_deal
from services.deals.service import DealsService
from services.deals.tables import creations, file_attachments, files, outbox

KINDS = ("deal", "task", "decision", "contract")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Attachment:
    kind: str
    target_id: str


@dataclass
class StoredFile:
    id: int
    deal_id: int | None  # None: a file of a lead not converted yet (a mail attachment)
    name: str
    content_type: str
    size: int
    sha256: str
    storage_key: str
    uploaded_by: int | None
    created_at: datetime
    attachments: list[Attachment] = field(default_factory=list)
    lead_id: int | None = None
    folder_id: int | None = None


# Whether the actor sees a lead (NotFound otherwise): files of leads are seen with the lead.
LeadCheck = Callable[[int | None, int], Awaitable[object]]


class FilesService:
    def __init__(
        self, engine: AsyncEngine, deals: DealsService, lead_check: LeadCheck | None = None
    ) -> None:
        self._engine = engine
        self._deals = deals
        self._lead_check = lead_check

    async def _may_upload(self, actor_id: int | None, deal_id: int) -> None:
        await self._deals.get_deal(actor_id=actor_id, deal_id=deal_id)  # NotFound if unseen
        if actor_id is not None:
            access = await self._deals.access.access_of(user_id=actor_id)
            access.require(Permission.FILES_UPLOAD)

    async def create_file(
        self,
        *,
        actor_id: int | None,
        deal_id: int,
        name: str,
        content_type: str,
        size: int,
        sha256: str,
        storage_key: str,
        attachments: Sequence[Attachment],
        idempotency_key: str = "",
        folder_id: int | None = None,
    ) -> StoredFile:
        """Record an uploaded blob as a file of a deal the actor sees, in the deal's folder
        `folder_id` (its root by default). A retry with the same `idempotency_key` returns
        the file recorded first (whose blob is not this one's)."""
        name = safe_file_name(name)
        problems = _check(content_type, size, sha256, storage_key, attachments)
        if problems:
            raise ValidationFailed(problems)
        await self._may_upload(actor_id, deal_id)
        async with UnitOfWork(self._engine, outbox) as uow:
            once = Once(actor_id, "file", idempotency_key)
            if (made := await first_made(uow.conn, creations, once)) is not None:
                return await _load(uow.conn, made)
            folder = await folder_in_deal(
                uow.conn, deal_id=deal_id, folder_id=folder_id, field_name="folder_id"
            )
            file_id = (
                await uow.conn.execute(
                    files.insert()
                    .values(
                        deal_id=deal_id,
                        name=name,
                        content_type=content_type,
                        size=size,
                        sha256=sha256,
                        storage_key=storage_key,
                        uploaded_by=actor_id,
                        created_at=utcnow(),
                        folder_id=folder,
                    )
                    .returning(files.c.id)
                )
            ).scalar_one()
            await remember(uow.conn, creations, once, file_id)
            for a in [Attachment("deal", str(deal_id)), *attachments]:
                await _attach(uow.conn, file_id, a)
            stored = await _load(uow.conn, file_id)
            uow.emit(
                PendingEvent(
                    type="deals.file.uploaded",
                    subject=f"deal/{deal_id}",
                    actor=str(actor_id or ""),
                    data={
                        "file_id": str(file_id),
                        "deal_id": str(deal_id),
                        "name": stored.name,
                        "size": size,
                        "sha256": sha256,
                        "folder_id": str(folder),
                        "attachments": [a.__dict__ for a in stored.attachments],
                    },
                )
            )
            return stored

    async def get_file(self, *, actor_id: int | None, file_id: int) -> StoredFile:
        """A file whose deal the actor sees (NotFound otherwise: no existence leak)."""
        async with self._engine.connect() as conn:
            stored = await _load(conn, file_id)
        try:
            if stored.deal_id is not None:
                await self._deals.get_deal(actor_id=actor_id, deal_id=stored.deal_id)
            elif self._lead_check is not None and stored.lead_id is not None:
                await self._lead_check(actor_id, stored.lead_id)
            else:
                raise NotFound("no owner")
        except NotFound:
            raise NotFound(f"file {file_id} not found") from None
        return stored

    async def known_storage_keys(self, *, actor_id: int | None, keys: Sequence[str]) -> list[str]:
        """Which of `keys` a file record uses; for calls from inside the system only."""
        if actor_id is not None:
            raise PermissionDenied("only the system asks which blobs are in use")
        if len(keys) > 1000:
            raise ValidationFailed(FieldProblem("storage_keys", "at most 1000 at a time"))
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(files.c.storage_key).where(files.c.storage_key.in_(list(keys)))
            )
        return [str(r[0]) for r in rows]

    async def list_files(
        self,
        *,
        actor_id: int | None,
        deal_id: int,
        attached_to: Attachment | None,
        cursor: str,
        limit: int,
    ) -> Page[StoredFile]:
        """A deal's files (or those attached to one of its records), newest first."""
        await self._deals.get_deal(actor_id=actor_id, deal_id=deal_id)
        query = (
            sa.select(files)
            .where(files.c.deal_id == deal_id)
            .order_by(files.c.id.desc())
            .limit(limit + 1)
        )
        if attached_to is not None:
            query = query.where(
                files.c.id.in_(
                    sa.select(file_attachments.c.file_id).where(
                        file_attachments.c.kind == attached_to.kind,
                        file_attachments.c.target_id == attached_to.target_id,
                    )
                )
            )
        if cursor:
            query = query.where(files.c.id < decode_cursor(cursor))
        async with self._engine.connect() as conn:
            items = await with_attachments(conn, list((await conn.execute(query)).all()))
        return Page.of(items, limit, key=lambda f: f.id)

    async def attach_file(
        self, *, actor_id: int | None, file_id: int, attachment: Attachment
    ) -> StoredFile:
        """Attach a file to another record of its deal (a task, a decision, a contract)."""
        problems = _attachment_problems([attachment])
        if problems:
            raise ValidationFailed(problems)
        stored = await self.get_file(actor_id=actor_id, file_id=file_id)
        if stored.deal_id is None:
            raise ValidationFailed(
                FieldProblem("id", "a lead's file is attached once it is a deal")
            )
        await self._may_upload(actor_id, stored.deal_id)
        async with self._engine.begin() as conn:
            await _attach(conn, file_id, attachment)
            return await _load(conn, file_id)


def _check(
    content_type: str,
    size: int,
    sha256: str,
    storage_key: str,
    attachments: Sequence[Attachment],
) -> list[FieldProblem]:
    problems = _attachment_problems(attachments)
    if not content_type or "/" not in content_type:
        problems.append(FieldProblem("content_type", "must be a media type"))
    if size < 0:
        problems.append(FieldProblem("size", "must not be negative"))
    if not _SHA256.match(sha256):
        problems.append(FieldProblem("sha256", "must be a hex SHA-256"))
    if not storage_key:
        problems.append(FieldProblem("storage_key", "is required"))
    return problems


def _attachment_problems(attachments: Sequence[Attachment]) -> list[FieldProblem]:
    problems = []
    for i, a in enumerate(attachments):
        if a.kind not in KINDS:
            problems.append(
                FieldProblem(f"attachments[{i}].kind", "must be one of " + ", ".join(KINDS))
            )
        if not a.target_id:
            problems.append(FieldProblem(f"attachments[{i}].id", "is required"))
    return problems


async def _attach(conn: AsyncConnection, file_id: int, a: Attachment) -> None:
    await conn.execute(
        insert(file_attachments)
        .values(file_id=file_id, kind=a.kind, target_id=a.target_id)
        .on_conflict_do_nothing()
    )


async def _load(conn: AsyncConnection, file_id: int) -> StoredFile:
    row = (await conn.execute(sa.select(files).where(files.c.id == file_id))).first()
    if row is None:
        raise NotFound(f"file {file_id} not found")
    (stored,) = await with_attachments(conn, [row])
    return stored


async def with_attachments(conn: AsyncConnection, rows: list[Any]) -> list[StoredFile]:
    """Files from their rows, with every attachment: one more query for all of them."""
    items = {
        r.id: StoredFile(
            id=r.id,
            deal_id=r.deal_id,
            name=r.name,
            content_type=r.content_type,
            size=r.size,
            sha256=r.sha256,
            storage_key=r.storage_key,
            uploaded_by=r.uploaded_by,
            created_at=r.created_at,
            lead_id=r.lead_id,
            folder_id=r.folder_id,
        )
        for r in rows
    }
    if items:
        links = await conn.execute(
            sa.select(file_attachments)
            .where(file_attachments.c.file_id.in_(items))
            .order_by(file_attachments.c.kind, file_attachments.c.target_id)
        )
        for link in links.all():
            items[link.file_id].attachments.append(Attachment(link.kind, link.target_id))
    return list(items.values())
