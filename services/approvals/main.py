"""Composition root of the approvals service."""

from __future__ import annotations

import asyncio

from pydantic_settings import SettingsConfigDict

from services.approvals.api import register
from services.approvals.service import ApprovalsService
from services.approvals.tables import outbox
from services.common.db import create_engine
from services.common.logging import configure_logging
from services.common.metrics import serve_metrics
from services.common.runtime import run_service
from services.common.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="APPROVALS_", extra="ignore")
    grpc_port: int = 50052


async def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    serve_metrics(settings.metrics_port)
    engine = create_engine(settings.database_url)
    service = ApprovalsService(engine)
    await run_service(
        name="approvals",
        settings=settings,
        engine=engine,
        outbox=outbox,
        register=lambda server: register(server, service),
    )


if __name__ == "__main__":
    asyncio.run(main())
