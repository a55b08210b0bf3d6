"""A deal's chat: every deal has one, opened with a message holding its key facts and a
link; whoever sees the deal reads it and posts (text, files of the deal, @mentions, each
mention notifies). The notifications service owns chats and decides who sees them."""

from __future__ import annotations

from typing import Annotated

from dealflow.notifications.v1 import notifications_pb2 as pb
from fastapi import APIRouter, Query

from services.gateway.deps import CurrentUser, Notifications
from services.gateway.idempotency import CreationKey
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.chat import ChatMemberIn, ChatMessageIn, ChatMessageOut, ChatOut

router = APIRouter(prefix=API_PREFIX + "/deals", tags=["deals"], responses=COMMON_RESPONSES)


@router.get("/{deal_id}/chat", responses=responses(404))
async def get_chat(
    deal_id: int,
    _: CurrentUser,
    notifications: Notifications,
    cursor: str = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ChatOut:
    """The chat's members and its messages, newest first."""
    request = pb.GetChatRequest(deal_id=str(deal_id), cursor=cursor, limit=limit)
    return ChatOut.of(await notifications.GetChat(request))


@router.post("/{deal_id}/chat", status_code=201, responses=responses(404))
async def post_chat_message(
    deal_id: int,
    body: ChatMessageIn,
    _: CurrentUser,
    notifications: Notifications,
    key: CreationKey,
) -> ChatMessageOut:
    """Post to the deal's chat; the poster and everyone mentioned become members."""
    request = pb.PostChatMessageRequest(
        deal_id=str(deal_id),
        body=body.body,
        file_ids=[str(f) for f in body.file_ids],
        mention_ids=[str(u) for u in body.mention_ids],
        idempotency_key=key,
    )
    return ChatMessageOut.of(await notifications.PostChatMessage(request))


@router.post("/{deal_id}/chat/members", responses=responses(404))
async def add_chat_member(
    deal_id: int, body: ChatMemberIn, _: CurrentUser, notifications: Notifications
) -> ChatOut:
    """Add someone who sees the deal to its chat."""
    request = pb.AddChatMemberRequest(deal_id=str(deal_id), user_id=str(body.user_id))
    return ChatOut.of(await notifications.AddChatMember(request))
