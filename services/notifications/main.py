"""Composition root of the notifications service."""

from __future__ import annotations

import grpc
from dealflow.deals.v1 import deals_pb2_grpc
from nats.js import JetStreamContext
from pydantic_settings import SettingsConfigDict

from services.common.db import create_engine
from services.common.grpc_client import channel
from services.common.grpc_server import Background, start_in_process
from services.common.logging import configure_logging
from services.common.metrics import serve_metrics
from services.common.runtime import run_main, run_service
from services.common.settings import ServiceSettings
from services.notifications.api import register
from services.notifications.consumer import deal_events_consumer
from services.notifications.people import DealsPeople
from services.notifications.service import NotificationsService
from services.notifications.tables import outbox


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")
    grpc_port: int = 50054


async def start_server(
    service: NotificationsService, *, host: str = "127.0.0.1", port: int = 0
) -> tuple[grpc.aio.Server, int]:
    """The service in process, for tests."""
    return await start_in_process(lambda server: register(server, service), host=host, port=port)


async def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    serve_metrics(settings.metrics_port)
    engine = create_engine(settings.database_url)
    deals_channel = channel(settings.deals_addr)
    people = DealsPeople(deals_pb2_grpc.DealsServiceStub(deals_channel))
    service = NotificationsService(engine, people=people)

    def deal_events(js: JetStreamContext) -> Background:
        return deal_events_consumer(js, engine).run

    try:
        await run_service(
            name="notifications",
            settings=settings,
            engine=engine,
            outbox=outbox,
            register=lambda server: register(server, service),
            consumers=[deal_events],
        )
    finally:
        await deals_channel.close()


if __name__ == "__main__":
    run_main(main())
