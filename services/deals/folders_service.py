"""Deal folders: every deal gets a root folder when it is made (folders_repository.make_root,
in the deal's own transaction); sub-folders group its files; an upload without a folder
lands in the root. A folder is seen by whoever sees its deal."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.access import Permission
from services.common.db import utcnow
from services.common.errors import FieldProblem, NotFound, ValidationFailed
from services.deals.domain.files import safe_file_name
from services.deals.files_service import StoredFile, with_attachments
from services.deals.folders_repository import Folder, folder_in_deal, folder_of
from services.deals.service import DealsService
from services.deals.tables import files, folders

MAX_LISTED = 500


class FoldersService:
    def __init__(self, engine: AsyncEngine, deals: DealsService) -> None:
        self._engine = engine
        self._deals = deals

    async def get_folder(
        self, *, actor_id: int | None, deal_id: int, folder_id: int | None
    ) -> tuple[Folder, list[StoredFile]]:
        """A folder of a deal the actor sees, with its sub-folders, and the files in it."""
        await self._deals.get_deal(actor_id=actor_id, deal_id=deal_id)  # NotFound if unseen
        async with self._engine.begin() as conn:
            try:
                the_id = await folder_in_deal(
                    conn, deal_id=deal_id, folder_id=folder_id, field_name="folder_id"
                )
            except ValidationFailed:
                raise NotFound(f"folder {folder_id} not found") from None
            row = (await conn.execute(sa.select(folders).where(folders.c.id == the_id))).one()
            subs = await conn.execute(
                sa.select(folders).where(folders.c.parent_id == the_id).order_by(folders.c.name)
            )
            in_it = files.c.folder_id == the_id
            if row.parent_id is None:  # a lead's files come to the deal without a folder
                in_it = sa.or_(in_it, files.c.folder_id.is_(None))
            rows = await conn.execute(
                sa.select(files)
                .where(files.c.deal_id == deal_id, in_it)
                .order_by(files.c.id.desc())
                .limit(MAX_LISTED)
            )
            found = folder_of(row)
            found.folders.extend(folder_of(s) for s in subs.all())
            in_folder = await with_attachments(conn, list(rows.all()))
        return found, in_folder

    async def create_folder(
        self, *, actor_id: int | None, deal_id: int, parent_id: int | None, name: str
    ) -> Folder:
        """A sub-folder; its name is unique within its parent."""
        clean = safe_file_name(name) if name.strip() else ""
        if not clean:
            raise ValidationFailed(FieldProblem("name", "must not be empty"))
        await self._deals.get_deal(actor_id=actor_id, deal_id=deal_id)
        if actor_id is not None:
            access = await self._deals.access.access_of(user_id=actor_id)
            access.require(Permission.FILES_UPLOAD)
        async with self._engine.begin() as conn:
            parent = await folder_in_deal(
                conn, deal_id=deal_id, folder_id=parent_id, field_name="parent_id"
            )
            row = (
                await conn.execute(
                    insert(folders)
                    .values(
                        deal_id=deal_id,
                        parent_id=parent,
                        name=clean,
                        created_by=actor_id,
                        created_at=utcnow(),
                    )
                    .on_conflict_do_nothing()
                    .returning(folders)
                )
            ).first()
        if row is None:
            raise ValidationFailed(FieldProblem("name", "a folder of this name is already there"))
        return folder_of(row)
