"""Delivery: a user's channels per kind of notification, webhooks and the delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.common.protoconv import from_struct
from services.gateway.schemas.common import Input, id_or_none, timestamp

Channel = Literal["in_app", "email", "webhook"]


class PreferencesIn(Input):
    preferences: dict[str, list[Channel]] = Field(
        description='channels per notification kind ("chat.mention", "task.completed", ...);'
        ' "*" for every kind without its own; a kind left out gets in_app only',
        examples=[{"chat.mention": ["in_app", "email"], "*": ["in_app", "webhook"]}],
    )


class PreferencesOut(BaseModel):
    preferences: dict[str, list[str]]

    @classmethod
    def of(cls, msg: Any) -> PreferencesOut:
        return cls(preferences={c.kind: list(c.channels) for c in msg.choices})


class WebhookIn(Input):
    url: str = Field(max_length=2000, examples=["https://hooks.example.com/dealflow"])


class WebhookOut(BaseModel):
    id: int
    url: str
    active: bool
    created_at: datetime | None
    # HMAC-SHA256 key of the `Dealflow-Signature` header: only in the answer that registers it
    secret: str | None = None

    @classmethod
    def of(cls, msg: Any) -> WebhookOut:
        return cls(
            id=int(msg.id),
            url=msg.url,
            active=msg.active,
            created_at=timestamp(msg, "created_at"),
            secret=msg.secret or None,
        )


class DeliveryOut(BaseModel):
    id: int
    notification_id: int
    channel: str
    webhook_id: int | None
    status: str  # pending | delivered | failed
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    log: list[dict[str, Any]]  # every attempt: {at, ok, status, error}

    @classmethod
    def of(cls, msg: Any) -> DeliveryOut:
        return cls(
            id=int(msg.id),
            notification_id=int(msg.notification_id),
            channel=msg.channel,
            webhook_id=id_or_none(msg.webhook_id),
            status=msg.status,
            attempts=msg.attempts,
            last_error=msg.last_error or None,
            next_attempt_at=timestamp(msg, "next_attempt_at"),
            delivered_at=timestamp(msg, "delivered_at"),
            log=list(from_struct(msg.log).get("attempts", [])),
        )
