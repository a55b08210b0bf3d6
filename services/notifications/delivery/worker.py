"""The delivery worker: claims due deliveries (a lease, `FOR UPDATE SKIP LOCKED`, so several
replicas share the work and a crashed one's claims come due again), sends each outside the
transaction, and records the attempt in the delivery's log: delivered, retried after a
backoff, or failed for good. At least once: a receiver deduplicates by `Dealflow-Delivery`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.db import utcnow
from services.notifications.delivery.senders import Attempt, EmailSender, WebhookSender
from services.notifications.domain.backoff import Backoff
from services.notifications.people import People
from services.notifications.tables import deliveries, notifications, webhooks

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)


class DeliveryWorker:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        email: EmailSender,
        webhook: WebhookSender,
        people: People,
        backoff: Backoff | None = None,
        clock: Callable[[], datetime] = utcnow,
        poll_seconds: float = 1.0,
    ) -> None:
        self._engine = engine
        self._email, self._webhook = email, webhook
        self._people = people
        self._backoff = backoff or Backoff()
        self._now = clock
        self._poll = poll_seconds

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                done = await self.deliver_due()
            except Exception:  # the database restarting: try again after a pause
                log.warning("delivery round failed; retrying", exc_info=True)
                done = 0
            if done == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._poll)

    async def deliver_due(self, limit: int = 20) -> int:
        """Try every delivery due now (up to `limit`); how many were tried."""
        claimed = await self._claim(limit)
        for row in claimed:
            attempt = await self._send(row)
            await self._record(row, attempt)
        return len(claimed)

    async def _claim(self, limit: int) -> list[Any]:
        now = self._now()
        due = (
            sa.select(deliveries.c.id)
            .where(deliveries.c.status == "pending", deliveries.c.next_attempt_at <= now)
            .order_by(deliveries.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        async with self._engine.begin() as conn:
            ids = (
                await conn.execute(
                    deliveries.update()
                    .where(deliveries.c.id.in_(due))
                    .values(next_attempt_at=now + LEASE)
                    .returning(deliveries.c.id)
                )
            ).scalars()
            query = (
                sa.select(
                    deliveries.c.id,
                    deliveries.c.channel,
                    deliveries.c.attempts,
                    deliveries.c.user_id,
                    deliveries.c.log,
                    notifications.c.id.label("notification_id"),
                    notifications.c.kind,
                    notifications.c.title,
                    notifications.c.body,
                    notifications.c.deal_id,
                    notifications.c.created_at,
                    webhooks.c.url,
                    webhooks.c.secret,
                )
                .join(notifications, notifications.c.id == deliveries.c.notification_id)
                .outerjoin(webhooks, webhooks.c.id == deliveries.c.webhook_id)
                .where(deliveries.c.id.in_(list(ids)))
            )
            return list((await conn.execute(query)).all())

    async def _send(self, row: Any) -> Attempt:
        link = f"/api/v1/deals/{row.deal_id}" if row.deal_id else ""
        if row.channel == "email":
            to = await self._people.email_of(row.user_id)
            if to is None:
                return Attempt(False, None, "the user has no e-mail address")
            text = "\n\n".join(part for part in (row.body, link) if part)
            return await self._email.send(to=to, subject=row.title, text=text)
        payload = {
            "delivery_id": str(row.id),
            "notification": {
                "id": str(row.notification_id),
                "user_id": str(row.user_id),
                "kind": row.kind,
                "title": row.title,
                "body": row.body,
                "deal_id": str(row.deal_id or ""),
                "link": link,
                "created_at": row.created_at.isoformat(),
            },
        }
        return await self._webhook.send(
            url=row.url, secret=row.secret, delivery_id=row.id, payload=payload
        )

    async def _record(self, row: Any, attempt: Attempt) -> None:
        """The attempt into the log (the lease keeps others off the row meanwhile)."""
        now = self._now()
        attempts = row.attempts + 1
        values: dict[str, Any] = {
            "attempts": attempts,
            "last_error": attempt.error or None,
            "log": [*row.log, attempt.as_log(now.isoformat())],
        }
        if attempt.ok:
            values |= {"status": "delivered", "delivered_at": now}
        elif (again := self._backoff.next_try(attempts, now=now)) is None:
            values |= {"status": "failed"}
        else:
            values |= {"next_attempt_at": again}
        async with self._engine.begin() as conn:
            await conn.execute(
                deliveries.update().where(deliveries.c.id == row.id).values(**values)
            )
