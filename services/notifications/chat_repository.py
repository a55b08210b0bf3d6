"""Reading and writing deal chats on a connection the caller owns."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.pagination import decode_cursor
from services.notifications.domain.chat import DealFacts, Message, NewMessage
from services.notifications.tables import chat_members, chat_messages, chats


def _message(row: sa.Row[Any]) -> Message:
    return Message(
        id=row.id,
        deal_id=row.deal_id,
        author_id=row.author_id,
        kind=row.kind,
        body=row.body,
        file_ids=tuple(row.file_ids),
        mention_ids=tuple(row.mention_ids),
        created_at=row.created_at,
    )


async def insert_chat(conn: AsyncConnection, facts: DealFacts, *, now: datetime) -> bool:
    """Open the deal's chat; False when it is open already."""
    made = await conn.execute(
        insert(chats)
        .values(deal_id=facts.deal_id, title=facts.title, created_at=now)
        .on_conflict_do_nothing()
        .returning(chats.c.deal_id)
    )
    return made.first() is not None


async def chat_title(conn: AsyncConnection, deal_id: int) -> str | None:
    found = await conn.execute(sa.select(chats.c.title).where(chats.c.deal_id == deal_id))
    title = found.scalar_one_or_none()
    return None if title is None else str(title)


async def add_members(
    conn: AsyncConnection, deal_id: int, users: Iterable[int], *, by: int | None, now: datetime
) -> None:
    rows = [{"deal_id": deal_id, "user_id": u, "added_by": by, "added_at": now} for u in users]
    if rows:
        await conn.execute(insert(chat_members).values(rows).on_conflict_do_nothing())


async def members(conn: AsyncConnection, deal_id: int) -> list[int]:
    found = await conn.execute(
        sa.select(chat_members.c.user_id)
        .where(chat_members.c.deal_id == deal_id)
        .order_by(chat_members.c.added_at, chat_members.c.user_id)
    )
    return [int(u) for u in found.scalars()]


async def insert_message(
    conn: AsyncConnection, new: NewMessage, *, kind: str, now: datetime
) -> Message | None:
    """The message, or None when one with the same idempotency key is there."""
    row = (
        await conn.execute(
            insert(chat_messages)
            .values(
                deal_id=new.deal_id,
                author_id=new.author_id,
                kind=kind,
                body=new.body,
                file_ids=list(new.file_ids),
                mention_ids=list(new.mention_ids),
                created_at=now,
                idempotency_key=new.idempotency_key,
            )
            .on_conflict_do_nothing()
            .returning(chat_messages)
        )
    ).first()
    return _message(row) if row is not None else None


async def message_by_key(conn: AsyncConnection, key: str) -> Message | None:
    query = sa.select(chat_messages).where(chat_messages.c.idempotency_key == key)
    row = (await conn.execute(query)).first()
    return _message(row) if row is not None else None


async def list_messages(
    conn: AsyncConnection, deal_id: int, *, cursor: str, limit: int
) -> list[Message]:
    """Up to limit + 1 of the chat's messages, newest first."""
    query = (
        sa.select(chat_messages)
        .where(chat_messages.c.deal_id == deal_id)
        .order_by(chat_messages.c.id.desc())
        .limit(limit + 1)
    )
    if cursor:
        query = query.where(chat_messages.c.id < decode_cursor(cursor))
    return [_message(r) for r in (await conn.execute(query)).all()]
