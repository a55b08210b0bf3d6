"""Composition root of the notifications service."""

from __future__ import annotations

from datetime import timedelta

import grpc
from dealflow.deals.v1 import deals_pb2_grpc, files_pb2_grpc
from nats.js import JetStreamContext
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.db import create_engine
from services.common.grpc_client import channel
from services.common.grpc_server import Background, start_in_process
from services.common.logging import configure_logging
from services.common.metrics import serve_metrics
from services.common.runtime import run_main, run_service
from services.common.settings import ServiceSettings
from services.notifications.api import register
from services.notifications.consumer import deal_events_consumer
from services.notifications.delivery.senders import EmailSender, SmtpConfig, WebhookSender
from services.notifications.delivery.worker import DeliveryWorker
from services.notifications.delivery_service import DeliveryService
from services.notifications.domain.backoff import Backoff
from services.notifications.people import DealsPeople
from services.notifications.service import NotificationsService
from services.notifications.tables import outbox


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")
    grpc_port: int = 50054
    # E-mail goes to this SMTP server: a relay in production; `make up` points it at the
    # local catch-all sink (deploy/local/mail_sink.py), which only logs what it receives.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2526
    smtp_from: str = "dealflow@localhost"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    # Webhooks to loopback and private addresses only where the receivers are inside.
    webhook_allow_private: bool = False
    delivery_max_attempts: int = Field(10, ge=1)
    delivery_first_retry_seconds: float = Field(5.0, gt=0)


async def start_server(
    service: NotificationsService, *, host: str = "127.0.0.1", port: int = 0
) -> tuple[grpc.aio.Server, int]:
    """The service in process, for tests."""
    return await start_in_process(lambda server: register(server, service), host=host, port=port)


def delivery_worker(settings: Settings, engine: AsyncEngine, people: DealsPeople) -> DeliveryWorker:
    smtp = SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value(),
        starttls=settings.smtp_starttls,
    )
    return DeliveryWorker(
        engine,
        email=EmailSender(smtp),
        webhook=WebhookSender(allow_private=settings.webhook_allow_private),
        people=people,
        backoff=Backoff(
            first=timedelta(seconds=settings.delivery_first_retry_seconds),
            max_attempts=settings.delivery_max_attempts,
        ),
    )


async def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    serve_metrics(settings.metrics_port)
    engine = create_engine(settings.database_url)
    deals_channel = channel(settings.deals_addr)
    people = DealsPeople(
        deals_pb2_grpc.DealsServiceStub(deals_channel),
        files_pb2_grpc.FilesServiceStub(deals_channel),
    )
    service = NotificationsService(engine, people=people)
    delivery = DeliveryService(engine, allow_private=settings.webhook_allow_private)
    worker = delivery_worker(settings, engine, people)

    def deal_events(js: JetStreamContext) -> Background:
        return deal_events_consumer(js, engine).run

    def delivering(_: JetStreamContext) -> Background:
        return worker.run

    try:
        await run_service(
            name="notifications",
            settings=settings,
            engine=engine,
            outbox=outbox,
            register=lambda server: register(server, service, delivery),
            consumers=[deal_events, delivering],
        )
    finally:
        await deals_channel.close()


if __name__ == "__main__":
    run_main(main())
