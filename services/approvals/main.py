"""Composition root of the approvals service."""

from __future__ import annotations

import grpc
from dealflow.deals.v1 import deals_pb2, deals_pb2_grpc
from pydantic_settings import SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncEngine

from services.approvals.api import register
from services.approvals.contracts_service import CheckDeal, ContractsService
from services.approvals.service import ApprovalsService
from services.approvals.tables import outbox
from services.common.access_client import deals_resolver
from services.common.db import create_engine
from services.common.grpc_client import call, channel
from services.common.grpc_server import start_in_process
from services.common.logging import configure_logging
from services.common.metrics import serve_metrics
from services.common.runtime import run_main, run_service
from services.common.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="APPROVALS_", extra="ignore")
    grpc_port: int = 50052


def deal_checker(deals: deals_pb2_grpc.DealsServiceStub) -> CheckDeal:
    """Asks the deals service for the deal as the actor: NotFound unless they see it."""

    async def check(deal_id: int, actor_id: int | None) -> None:
        await call(deals.GetDeal, deals_pb2.GetDealRequest(id=str(deal_id)), actor=actor_id)

    return check


def build(
    engine: AsyncEngine, deals: deals_pb2_grpc.DealsServiceStub
) -> tuple[ApprovalsService, ContractsService]:
    resolver = deals_resolver(deals)
    service = ApprovalsService(engine, access=resolver)
    contracts = ContractsService(engine, access=resolver, check_deal=deal_checker(deals))
    return service, contracts


async def start_server(
    service: ApprovalsService, contracts: ContractsService, *, port: int = 0
) -> tuple[grpc.aio.Server, int]:
    """The service in process, for tests."""
    return await start_in_process(lambda server: register(server, service, contracts), port=port)


async def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    serve_metrics(settings.metrics_port)
    engine = create_engine(settings.database_url)
    deals_channel = channel(settings.deals_addr)
    service, contracts = build(engine, deals_pb2_grpc.DealsServiceStub(deals_channel))
    try:
        await run_service(
            name="approvals",
            settings=settings,
            engine=engine,
            outbox=outbox,
            register=lambda server: register(server, service, contracts),
        )
    finally:
        await deals_channel.close()


if __name__ == "__main__":
    run_main(main())
