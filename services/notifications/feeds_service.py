"""Calendar feeds: a user's secret feed URL token, made (revoking the one before),
revoked, and resolved to its user. Only the token's SHA-256 is stored: a leaked database
holds no working URL."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common.db import utcnow
from services.common.errors import NotFound
from services.notifications.feeds_tables import calendar_feeds

TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class FeedsService:
    def __init__(self, engine: AsyncEngine, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._engine = engine
        self._now = clock

    async def create(self, *, user_id: int) -> tuple[str, datetime]:
        """A new secret for the user (the old one stops working): (token, made at)."""
        token, now = secrets.token_urlsafe(TOKEN_BYTES), self._now()
        async with self._engine.begin() as conn:
            await self._revoke(conn, user_id, now)
            await conn.execute(
                calendar_feeds.insert().values(
                    user_id=user_id, token_hash=token_hash(token), created_at=now
                )
            )
        return token, now

    async def revoke(self, *, user_id: int) -> bool:
        """Whether there was a live feed to revoke."""
        async with self._engine.begin() as conn:
            return await self._revoke(conn, user_id, self._now())

    async def resolve(self, *, token: str) -> int:
        query = sa.select(calendar_feeds.c.user_id).where(
            calendar_feeds.c.token_hash == token_hash(token), calendar_feeds.c.revoked_at.is_(None)
        )
        async with self._engine.connect() as conn:
            user_id = (await conn.execute(query)).scalar()
        if user_id is None:
            raise NotFound("no such calendar feed")
        return int(user_id)

    @staticmethod
    async def _revoke(conn: AsyncConnection, user_id: int, now: datetime) -> bool:
        done = await conn.execute(
            calendar_feeds.update()
            .where(calendar_feeds.c.user_id == user_id, calendar_feeds.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(done.rowcount)
