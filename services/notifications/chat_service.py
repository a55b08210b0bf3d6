"""Deal chats: every new deal gets one (opened from its `deals.deal.created` event, or on
first use when that event is still on its way), with the responsible as a member and an
opening message holding the deal's key facts and a link. Whoever sees the deal reads and
posts; posting, being mentioned or being added makes a member; a mention notifies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common.access import Permission
from services.common.db import PendingEvent, utcnow, write_events
from services.common.errors import FieldProblem, NotFound, PermissionDenied, ValidationFailed
from services.common.pagination import Page
from services.notifications import chat_repository as chats
from services.notifications.domain.chat import (
    DealFacts,
    Message,
    NewMessage,
    mention_notices,
    new_message,
)
from services.notifications.notify import notify
from services.notifications.people import People
from services.notifications.tables import outbox

MESSAGE_POSTED = "notifications.chat.message_posted"
MEMBER_ADDED = "notifications.chat.member_added"


@dataclass(frozen=True)
class Chat:
    deal_id: int
    title: str
    member_ids: list[int]
    messages: Page[Message]


def _posted(message: Message, members: list[int]) -> PendingEvent:
    return PendingEvent(
        type=MESSAGE_POSTED,
        subject=f"deal/{message.deal_id}",
        data={"message": message.summary(), "member_ids": [str(m) for m in members]},
        actor=str(message.author_id or ""),
    )


async def open_chat(conn: AsyncConnection, facts: DealFacts) -> None:
    """Open the deal's chat with its opening message, once (a repeat does nothing)."""
    now = utcnow()
    if not await chats.insert_chat(conn, facts, now=now):
        return
    await chats.add_members(conn, facts.deal_id, facts.members(), by=None, now=now)
    opening = NewMessage(facts.deal_id, None, facts.opening())
    message = await chats.insert_message(conn, opening, kind="opening", now=now)
    assert message is not None  # no key: it cannot conflict
    await write_events(conn, outbox, [_posted(message, list(facts.members()))])


class ChatService:
    def __init__(self, engine: AsyncEngine, people: People | None) -> None:
        self._engine = engine
        self._people_or_none = people

    @property
    def _people(self) -> People:
        if self._people_or_none is None:
            raise PermissionDenied("chats cannot be checked: the deals service is not configured")
        return self._people_or_none

    async def _visible_chat(self, deal_id: int, actor: int | None) -> str:
        """The chat's title; NotFound unless the actor sees the deal (the chat of a deal
        whose creation event is not here yet is opened now)."""
        if actor is not None and not await self._people.sees_deal(deal_id, actor):
            raise NotFound(f"deal {deal_id} not found")
        async with self._engine.begin() as conn:
            title = await chats.chat_title(conn, deal_id)
            if title is not None:
                return title
            facts = await self._people.deal_facts(deal_id)
            if facts is None:
                raise NotFound(f"deal {deal_id} not found")
            await open_chat(conn, facts)
            return facts.title

    async def get_chat(self, deal_id: int, *, actor: int | None, cursor: str, limit: int) -> Chat:
        """The chat's members and a page of its messages, newest first."""
        title = await self._visible_chat(deal_id, actor)
        async with self._engine.connect() as conn:
            members = await chats.members(conn, deal_id)
            rows = await chats.list_messages(conn, deal_id, cursor=cursor, limit=limit)
        return Chat(deal_id, title, members, Page.of(rows, limit, key=lambda m: m.id))

    async def _may_write(self, deal_id: int, actor: int | None) -> str:
        """The chat's title, if the actor sees the deal (404) and may change deals (403)."""
        title = await self._visible_chat(deal_id, actor)
        if actor is not None:
            access = await self._people.access(actor)
            access.require(Permission.DEALS_EDIT, "your role may not write in deal chats")
        return title

    async def post(
        self,
        deal_id: int,
        *,
        author_id: int | None,
        body: str,
        file_ids: Sequence[int] = (),
        mention_ids: Sequence[int] = (),
        idempotency_key: str = "",
    ) -> Message:
        """Post a message; its files must be the deal's and its mentions people who see the
        deal. A retry with the same idempotency key returns the first message."""
        title = await self._may_write(deal_id, author_id)
        new = new_message(
            deal_id=deal_id,
            author_id=author_id,
            body=body,
            file_ids=file_ids,
            mention_ids=mention_ids,
            idempotency_key=idempotency_key,
        )
        await self._check_parts(new)
        async with self._engine.begin() as conn:
            now = utcnow()
            message = await chats.insert_message(conn, new, kind="message", now=now)
            if message is None:
                assert new.idempotency_key is not None
                first = await chats.message_by_key(conn, new.idempotency_key)
                if first is None or (first.deal_id, first.body) != (new.deal_id, new.body):
                    raise ValidationFailed(
                        FieldProblem("idempotency_key", "was already used for another message")
                    )
                return first
            joining = [u for u in (new.author_id, *new.mention_ids) if u is not None]
            await chats.add_members(conn, new.deal_id, joining, by=new.author_id, now=now)
            for notice in mention_notices(message, title):
                await notify(conn, notice, now=now)
            members = await chats.members(conn, new.deal_id)
            await write_events(conn, outbox, [_posted(message, members)])
        return message

    async def _check_parts(self, new: NewMessage) -> None:
        problems = []
        for i, file_id in enumerate(new.file_ids):
            if await self._people.file_deal(file_id) != new.deal_id:
                problems.append(FieldProblem(f"file_ids[{i}]", "is not a file of this deal"))
        for i, user in enumerate(new.mention_ids):
            if not await self._people.sees_deal(new.deal_id, user):
                problems.append(FieldProblem(f"mention_ids[{i}]", "does not see this deal"))
        if problems:
            raise ValidationFailed(problems)

    async def add_member(self, deal_id: int, user_id: int, *, actor: int | None) -> Chat:
        """Add someone who sees the deal to its chat."""
        await self._may_write(deal_id, actor)
        if not await self._people.sees_deal(deal_id, user_id):
            raise ValidationFailed(FieldProblem("user_id", "does not see this deal"))
        async with self._engine.begin() as conn:
            await chats.add_members(conn, deal_id, [user_id], by=actor, now=utcnow())
            event = PendingEvent(
                type=MEMBER_ADDED,
                subject=f"deal/{deal_id}",
                data={"deal_id": str(deal_id), "user_id": str(user_id)},
                actor=str(actor or ""),
            )
            await write_events(conn, outbox, [event])
        return await self.get_chat(deal_id, actor=actor, cursor="", limit=1)
