"""A user's own delivery settings: channels per kind of notification, webhooks (each with a
secret shown once, at registration) and the log of deliveries. Only the user themself (or
the system) reads and changes them."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.db import utcnow
from services.common.errors import FieldProblem, PermissionDenied, ValidationFailed
from services.common.pagination import Page, decode_cursor
from services.notifications.delivery.addresses import destination_problem
from services.notifications.domain.channels import check_preferences
from services.notifications.tables import deliveries, preferences, webhooks

MAX_WEBHOOKS = 10


@dataclass(frozen=True)
class Webhook:
    id: int
    user_id: int
    url: str
    active: bool
    created_at: datetime
    secret: str = ""  # only when it is registered


def _own(user_id: int, actor: int | None) -> None:
    if actor is not None and actor != user_id:
        raise PermissionDenied("only the user themself manages their delivery")


class DeliveryService:
    def __init__(self, engine: AsyncEngine, *, allow_private: bool = False) -> None:
        self._engine = engine
        self._allow_private = allow_private

    async def preferences(self, user_id: int, *, actor: int | None) -> dict[str, tuple[str, ...]]:
        _own(user_id, actor)
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(preferences.c.kind, preferences.c.channels)
                .where(preferences.c.user_id == user_id)
                .order_by(preferences.c.kind)
            )
            return {r.kind: tuple(r.channels) for r in rows}

    async def put_preferences(
        self, user_id: int, chosen: Mapping[str, Sequence[str]], *, actor: int | None
    ) -> dict[str, tuple[str, ...]]:
        """Replace the user's preferences (kinds left out go back to the default)."""
        _own(user_id, actor)
        clean = check_preferences(chosen)
        async with self._engine.begin() as conn:
            await conn.execute(preferences.delete().where(preferences.c.user_id == user_id))
            if clean:
                await conn.execute(
                    preferences.insert(),
                    [
                        {"user_id": user_id, "kind": k, "channels": list(v)}
                        for k, v in clean.items()
                    ],
                )
        return await self.preferences(user_id, actor=actor)

    async def create_webhook(self, user_id: int, url: str, *, actor: int | None) -> Webhook:
        """Register a webhook; its secret signs every delivery and is shown only now."""
        _own(user_id, actor)
        problem = await destination_problem(url.strip(), allow_private=self._allow_private)
        if problem is not None:
            raise ValidationFailed(FieldProblem("url", problem))
        secret = secrets.token_urlsafe(32)
        async with self._engine.begin() as conn:
            count = await conn.scalar(
                sa.select(sa.func.count()).where(
                    webhooks.c.user_id == user_id, webhooks.c.active.is_(True)
                )
            )
            if (count or 0) >= MAX_WEBHOOKS:
                raise ValidationFailed(FieldProblem("url", f"at most {MAX_WEBHOOKS} webhooks"))
            row = (
                await conn.execute(
                    webhooks.insert()
                    .values(user_id=user_id, url=url.strip(), secret=secret, created_at=utcnow())
                    .returning(webhooks)
                )
            ).one()
        return Webhook(row.id, row.user_id, row.url, row.active, row.created_at, secret)

    async def list_webhooks(self, user_id: int, *, actor: int | None) -> list[Webhook]:
        _own(user_id, actor)
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(webhooks).where(webhooks.c.user_id == user_id).order_by(webhooks.c.id)
            )
            return [Webhook(r.id, r.user_id, r.url, r.active, r.created_at) for r in rows]

    async def deliveries(
        self, user_id: int, *, actor: int | None, cursor: str, limit: int
    ) -> Page[Any]:
        """The user's deliveries, newest first, each with its log of attempts."""
        _own(user_id, actor)
        query = (
            sa.select(deliveries)
            .where(deliveries.c.user_id == user_id)
            .order_by(deliveries.c.id.desc())
            .limit(limit + 1)
        )
        if cursor:
            query = query.where(deliveries.c.id < decode_cursor(cursor))
        async with self._engine.connect() as conn:
            rows = list((await conn.execute(query)).all())
        return Page.of(rows, limit, key=lambda r: r.id)
