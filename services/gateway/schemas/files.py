"""Files: what an upload answers and a file's metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.gateway.schemas.common import Input, RecordId, id_or_none, timestamp


class AttachmentOut(BaseModel):
    kind: str
    id: str


class FileOut(BaseModel):
    id: int
    deal_id: int | None
    lead_id: int | None = None
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: int | None
    created_at: datetime | None
    attachments: list[AttachmentOut]
    folder_id: int | None = None

    @classmethod
    def of(cls, msg: Any) -> FileOut:
        return cls(
            id=int(msg.id),
            deal_id=id_or_none(msg.deal_id),
            lead_id=id_or_none(msg.lead_id),
            name=msg.name,
            content_type=msg.content_type,
            size=msg.size,
            sha256=msg.sha256,
            uploaded_by=id_or_none(msg.uploaded_by),
            created_at=timestamp(msg, "created_at"),
            attachments=[AttachmentOut(kind=a.kind, id=a.id) for a in msg.attachments],
            folder_id=id_or_none(msg.folder_id),
        )


class FolderOut(BaseModel):
    """A deal's folder: its sub-folders (without their content) and the files in it."""

    id: int
    deal_id: int
    parent_id: int | None
    name: str
    created_at: datetime | None
    folders: list[FolderOut] = []
    files: list[FileOut] = []

    @classmethod
    def of(cls, msg: Any) -> FolderOut:
        return cls(
            id=int(msg.id),
            deal_id=int(msg.deal_id),
            parent_id=id_or_none(msg.parent_id),
            name=msg.name,
            created_at=timestamp(msg, "created_at"),
            folders=[FolderOut.of(f) for f in msg.folders],
            files=[FileOut.of(f) for f in msg.files],
        )


class FolderIn(Input):
    name: str = Field(min_length=1, max_length=255)
    parent_id: RecordId | None = Field(None, description="the parent folder; the root if unset")
