"""Composition root of the finance service."""

from __future__ import annotations

import grpc
from dealflow.deals.v1 import deals_pb2, deals_pb2_grpc
from pydantic_settings import SettingsConfigDict

from services.common.access_client import deals_resolver
from services.common.db import create_engine
from services.common.grpc_client import call, channel
from services.common.grpc_server import start_in_process
from services.common.logging import configure_logging
from services.common.metrics import serve_metrics
from services.common.runtime import run_main, run_service
from services.common.settings import ServiceSettings
from services.finance.api import register
from services.finance.context import DealOwner
from services.finance.service import FinanceService
from services.finance.tables import outbox


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FINANCE_", extra="ignore")
    grpc_port: int = 50053


def deal_owner_from(stub: deals_pb2_grpc.DealsServiceStub) -> DealOwner:
    """The responsible user of a deal, asked of the deals service as the system."""

    async def owner(deal_id: int) -> int:
        deal = await call(stub.GetDeal, deals_pb2.GetDealRequest(id=str(deal_id)), timeout=5.0)
        return int(deal.responsible_id)

    return owner


async def start_server(
    service: FinanceService, *, host: str = "127.0.0.1", port: int = 0
) -> tuple[grpc.aio.Server, int]:
    """The service in process, for tests."""
    return await start_in_process(lambda server: register(server, service), host=host, port=port)


async def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    serve_metrics(settings.metrics_port)
    engine = create_engine(settings.database_url)
    deals = deals_pb2_grpc.DealsServiceStub(channel(settings.deals_addr))
    service = FinanceService(
        engine, resolver=deals_resolver(deals), deal_owner=deal_owner_from(deals)
    )
    await run_service(
        name="finance",
        settings=settings,
        engine=engine,
        outbox=outbox,
        register=lambda server: register(server, service),
    )


if __name__ == "__main__":
    run_main(main())
