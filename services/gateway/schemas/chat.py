"""Deal chats: a message, the chat with its members, and what a post sends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.gateway.schemas.common import Input, RecordId, cursor_or_none, id_or_none, timestamp


class ChatMessageOut(BaseModel):
    id: int
    deal_id: int
    author_id: int | None  # None: the opening message
    kind: str  # opening | message
    body: str
    file_ids: list[int]
    mention_ids: list[int]
    created_at: datetime | None

    @classmethod
    def of(cls, msg: Any) -> ChatMessageOut:
        return cls(
            id=int(msg.id),
            deal_id=int(msg.deal_id),
            author_id=id_or_none(msg.author_id),
            kind=msg.kind,
            body=msg.body,
            file_ids=[int(f) for f in msg.file_ids],
            mention_ids=[int(u) for u in msg.mention_ids],
            created_at=timestamp(msg, "created_at"),
        )


class ChatOut(BaseModel):
    deal_id: int
    title: str
    member_ids: list[int]
    items: list[ChatMessageOut]  # newest first
    next_cursor: str | None = None

    @classmethod
    def of(cls, msg: Any) -> ChatOut:
        return cls(
            deal_id=int(msg.deal_id),
            title=msg.title,
            member_ids=[int(u) for u in msg.member_ids],
            items=[ChatMessageOut.of(m) for m in msg.messages],
            next_cursor=cursor_or_none(msg.next_cursor),
        )


class ChatMessageIn(Input):
    body: str = Field("", max_length=10_000)
    file_ids: list[RecordId] = Field(default_factory=list, description="files of the deal")
    mention_ids: list[RecordId] = Field(
        default_factory=list, description="users who see the deal; each is notified"
    )


class ChatMemberIn(Input):
    user_id: RecordId
