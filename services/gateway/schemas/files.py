"""Files: what an upload answers and a file's metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from services.gateway.schemas.common import id_or_none, timestamp


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
        )
