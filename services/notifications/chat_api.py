"""The deal chat RPCs of NotificationsService (a part of its servicer): mapping only."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
from dealflow.notifications.v1 import notifications_pb2 as pb

from services.common.grpc_server import actor_id
from services.common.ids import parse_id
from services.common.pagination import clamp_limit
from services.common.protoconv import to_timestamp
from services.notifications.chat_service import Chat, ChatService
from services.notifications.domain.chat import Message

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


def message_pb(m: Message) -> pb.ChatMessage:
    return pb.ChatMessage(
        id=str(m.id),
        deal_id=str(m.deal_id),
        author_id=str(m.author_id or ""),
        kind=m.kind,
        body=m.body,
        file_ids=[str(f) for f in m.file_ids],
        mention_ids=[str(u) for u in m.mention_ids],
        created_at=to_timestamp(m.created_at),
    )


def chat_pb(chat: Chat) -> pb.Chat:
    return pb.Chat(
        deal_id=str(chat.deal_id),
        title=chat.title,
        member_ids=[str(u) for u in chat.member_ids],
        messages=[message_pb(m) for m in chat.messages.items],
        next_cursor=chat.messages.next_cursor,
    )


class ChatApi:
    _chats: ChatService

    async def GetChat(self, request: pb.GetChatRequest, context: Ctx) -> pb.Chat:
        chat = await self._chats.get_chat(
            parse_id(request.deal_id, "deal_id"),
            actor=actor_id(context),
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        return chat_pb(chat)

    async def PostChatMessage(
        self, request: pb.PostChatMessageRequest, context: Ctx
    ) -> pb.ChatMessage:
        message = await self._chats.post(
            parse_id(request.deal_id, "deal_id"),
            author_id=actor_id(context),
            body=request.body,
            file_ids=[parse_id(f, f"file_ids[{i}]") for i, f in enumerate(request.file_ids)],
            mention_ids=[
                parse_id(u, f"mention_ids[{i}]") for i, u in enumerate(request.mention_ids)
            ],
            idempotency_key=request.idempotency_key,
        )
        return message_pb(message)

    async def AddChatMember(self, request: pb.AddChatMemberRequest, context: Ctx) -> pb.Chat:
        chat = await self._chats.add_member(
            parse_id(request.deal_id, "deal_id"),
            parse_id(request.user_id, "user_id"),
            actor=actor_id(context),
        )
        return chat_pb(chat)
