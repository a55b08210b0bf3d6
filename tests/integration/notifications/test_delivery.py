"""Delivery by e-mail and webhook against real parts: the delivery worker speaks SMTP to a
sink started here and POSTs to a webhook receiver started here. The receiver checks the
HMAC signature and answers 500 first: the worker retries after its backoff (not before)
and the log holds both attempts. Loopback webhooks are refused unless configured; a kind
whose in-app channel is off stays out of the feed."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from dealflow.deals.v1 import deals_pb2 as dpb
from dealflow.deals.v1 import deals_pb2_grpc
from dealflow.notifications.v1 import notifications_pb2 as pb
from dealflow.notifications.v1 import notifications_pb2_grpc as pb_grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.local.mail_sink import LoggingHandler, serve
from services.common.db import utcnow
from services.common.errors import ValidationFailed
from services.common.grpc_client import call
from services.notifications.delivery.senders import EmailSender, SmtpConfig, WebhookSender
from services.notifications.delivery.signing import HEADER, verify
from services.notifications.delivery.worker import DeliveryWorker
from services.notifications.delivery_service import DeliveryService
from services.notifications.domain.backoff import Backoff
from services.notifications.domain.feed import NewNotification
from services.notifications.notify import NOTIFICATION_CREATED, notify
from services.notifications.people import DealsPeople
from services.notifications.tables import deliveries, notifications, outbox, webhooks

pytestmark = pytest.mark.integration
FIRST_RETRY = timedelta(seconds=30)


@dataclass
class Receiver:
    """A webhook endpoint: answers the statuses queued (then 200), keeps what it got."""

    statuses: list[int]
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.got.append((headers, body))
        status = self.statuses.pop(0) if self.statuses else 200
        writer.write(
            f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        writer.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver([500])
    server = await asyncio.start_server(found.handle, "127.0.0.1", 0)
    found.port = server.sockets[0].getsockname()[1]
    yield found
    server.close()


@pytest.fixture
async def sink() -> AsyncIterator[tuple[LoggingHandler, int]]:
    handler = LoggingHandler()
    server = await serve("127.0.0.1", 0, handler)
    yield handler, server.sockets[0].getsockname()[1]
    server.close()


class Clock:
    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.ahead


async def test_email_and_a_signed_webhook_retried_after_a_500(
    engine: AsyncEngine,
    deals: deals_pb2_grpc.DealsServiceStub,
    stub: pb_grpc.NotificationsServiceStub,
    receiver: Receiver,
    sink: tuple[LoggingHandler, int],
) -> None:
    email = f"ann-{uuid.uuid4().hex[:6]}@example.com"
    user = await call(
        deals.CreateUser,
        dpb.CreateUserRequest(email=email, name="Ann", password="pw-12345678", roles=["manager"]),
    )
    user_id = int(user.id)
    settings = DeliveryService(engine, allow_private=True)  # the receiver is on loopback
    channels = ["in_app", "email", "webhook"]
    await settings.put_preferences(user_id, {"chat.mention": channels}, actor=user_id)
    hook = await settings.create_webhook(
        user_id, f"http://127.0.0.1:{receiver.port}/hook", actor=user_id
    )
    clock = Clock()
    handler, smtp_port = sink
    worker = DeliveryWorker(
        engine,
        email=EmailSender(SmtpConfig("127.0.0.1", smtp_port, sender="dealflow@test")),
        webhook=WebhookSender(allow_private=True),
        people=DealsPeople(deals),
        backoff=Backoff(first=FIRST_RETRY),
        clock=clock,
    )
    notice = await call(
        stub.CreateNotification,
        pb.CreateNotificationRequest(
            user_id=user.id, kind="chat.mention", title="Bob mentioned you", body="see", deal_id="9"
        ),
    )

    assert await worker.deliver_due() == 2
    (mail,) = handler.received
    assert (mail["to"], mail["subject"]) == ([email], "Bob mentioned you")
    assert "/api/v1/deals/9" in mail["text"]
    ((headers, body),) = receiver.got
    assert verify(hook.secret, headers[HEADER.lower()], body, now=int(time.time()))
    assert not verify("another secret", headers[HEADER.lower()], body, now=int(time.time()))
    sent: dict[str, Any] = json.loads(body)
    assert sent["notification"]["id"] == notice.id
    assert headers["dealflow-delivery"] == sent["delivery_id"]

    assert await worker.deliver_due() == 0  # the 500 waits out its backoff
    clock.ahead = FIRST_RETRY + timedelta(seconds=1)
    assert await worker.deliver_due() == 1
    assert len(receiver.got) == 2 and receiver.got[1][1] == body  # the same delivery again

    log = await call(stub.ListDeliveries, pb.ListDeliveriesRequest(user_id=user.id))
    by_channel = {d.channel: d for d in log.deliveries}
    assert by_channel["email"].status == "delivered" and by_channel["email"].attempts == 1
    webhook = by_channel["webhook"]
    assert (webhook.status, webhook.attempts) == ("delivered", 2)
    attempts = [dict(a) for a in webhook.log["attempts"]]
    assert [(a["ok"], a["status"]) for a in attempts] == [(False, 500), (True, 200)]


async def test_loopback_and_private_webhooks_are_refused_unless_allowed(
    stub: pb_grpc.NotificationsServiceStub,
) -> None:
    for url in ("http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://[::1]/x", "ftp://a.b/"):
        with pytest.raises(ValidationFailed) as refused:
            await call(stub.CreateWebhook, pb.CreateWebhookRequest(user_id="5", url=url))
        assert refused.value.problems[0].field == "url"


async def test_a_kind_without_in_app_stays_out_of_the_feed(
    engine: AsyncEngine, stub: pb_grpc.NotificationsServiceStub
) -> None:
    await DeliveryService(engine).put_preferences(77, {"digest": ["email"]}, actor=None)
    for kind in ("digest", "other"):
        request = pb.CreateNotificationRequest(user_id="77", kind=kind, title=kind)
        await call(stub.CreateNotification, request)
    feed = await call(stub.ListNotifications, pb.ListNotificationsRequest(user_id="77"))
    assert [n.kind for n in feed.notifications] == ["other"]


async def test_a_notification_is_recorded_with_its_deliveries_and_its_event_at_once(
    engine: AsyncEngine,
) -> None:
    """`notify` as one statement: the preference for any kind applies to a kind without its
    own, an inactive webhook gets no delivery, the event carries the notification's summary
    and channels, and the same event again records nothing."""
    user_id = 7000 + uuid.uuid4().int % 1000
    settings = DeliveryService(engine, allow_private=True)
    await settings.put_preferences(user_id, {"*": ["email", "webhook"]}, actor=None)
    kept = await settings.create_webhook(user_id, "http://127.0.0.1:9/kept", actor=None)
    gone = await settings.create_webhook(user_id, "http://127.0.0.1:9/gone", actor=None)
    async with engine.begin() as conn:
        await conn.execute(webhooks.update().where(webhooks.c.id == gone.id).values(active=False))
    new = NewNotification(user_id, "deal.stage_changed", "Deal moved", "A → B", 9, uuid.uuid4())
    now = utcnow()
    async with engine.begin() as conn:
        made = await notify(conn, new, now=now)
        assert made is not None and await notify(conn, new, now=now) is None
    async with engine.connect() as conn:
        planned = await conn.execute(
            sa.select(deliveries.c.channel, deliveries.c.webhook_id, deliveries.c.status)
            .where(deliveries.c.notification_id == made.id)
            .order_by(deliveries.c.id)
        )
        assert planned.all() == [("email", None, "pending"), ("webhook", kept.id, "pending")]
        in_app = await conn.scalar(
            sa.select(notifications.c.in_app).where(notifications.c.id == made.id)
        )
        told = await conn.execute(
            sa.select(outbox.c.type, outbox.c.data).where(
                outbox.c.subject == f"notification/{made.id}"
            )
        )
        assert told.all() == [
            (
                NOTIFICATION_CREATED,
                {"notification": made.summary(), "channels": ["email", "webhook"]},
            )
        ]
    assert in_app is False and made.created_at == now
