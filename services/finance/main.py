"""Composition root of the finance service."""

from __future__ import annotations

import asyncio

from pydantic_settings import SettingsConfigDict

from services.common.db import create_engine
from services.common.logging import configure_logging
from services.common.metrics import serve_metrics
from services.common.runtime import run_service
from services.common.settings import ServiceSettings
from services.finance.api import register
from services.finance.service import FinanceService
from services.finance.tables import outbox


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FINANCE_", extra="ignore")
    grpc_port: int = 50053


async def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    serve_metrics(settings.metrics_port)
    engine = create_engine(settings.database_url)
    service = FinanceService(engine)
    await run_service(
        name="finance",
        settings=settings,
        engine=engine,
        outbox=outbox,
        register=lambda server: register(server, service),
    )


if __name__ == "__main__":
    asyncio.run(main())
