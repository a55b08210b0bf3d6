"""Calendar feed secrets over real PostgreSQL: only a hash is stored, one live secret per
user (a new one revokes the old), a revoked or unknown one resolves to nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.errors import NotFound
from services.notifications.feeds_service import FeedsService, token_hash
from services.notifications.feeds_tables import calendar_feeds

pytestmark = pytest.mark.integration


async def test_one_live_secret_per_user_kept_as_a_hash(engine: AsyncEngine) -> None:
    feeds = FeedsService(engine)
    first, _ = await feeds.create(user_id=41)
    assert await feeds.resolve(token=first) == 41
    second, _ = await feeds.create(user_id=41)
    with pytest.raises(NotFound):
        await feeds.resolve(token=first)
    assert await feeds.resolve(token=second) == 41
    async with engine.connect() as conn:
        stored = (await conn.execute(sa.select(calendar_feeds.c.token_hash))).scalars().all()
    assert token_hash(second) in stored and second not in stored
    assert await feeds.revoke(user_id=41) is True
    assert await feeds.revoke(user_id=41) is False
    with pytest.raises(NotFound):
        await feeds.resolve(token=second)
    with pytest.raises(NotFound):
        await feeds.resolve(token="guessed")
