"""Composition root of the deals service."""

from __future__ import annotations

import logging
from functools import partial

import grpc
from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from services.common.db import create_engine
from services.common.grpc_server import start_in_process
from services.common.logging import configure_logging
from services.common.metrics import serve_metrics
from services.common.runtime import run_main, run_service
from services.common.settings import ServiceSettings
from services.deals.api import register
from services.deals.audit_consumer import decisions_consumer
from services.deals.funnel_cells import keep_folding
from services.deals.money_consumer import money_consumer
from services.deals.service import DealsService
from services.deals.tables import outbox

log = logging.getLogger(__name__)


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEALS_", extra="ignore", populate_by_name=True)
    grpc_port: int = 50051
    # The first administrator, created at start-up when both are set (and left alone after).
    admin_email: str = Field(
        "", validation_alias=AliasChoices("DEALFLOW_ADMIN_EMAIL", "dealflow_admin_email")
    )
    admin_password: SecretStr = Field(
        SecretStr(""),
        validation_alias=AliasChoices("DEALFLOW_ADMIN_PASSWORD", "dealflow_admin_password"),
    )

    @model_validator(mode="after")
    def _admin_complete(self) -> Settings:
        if bool(self.admin_email) != bool(self.admin_password.get_secret_value()):
            raise ValueError(
                "set both DEALFLOW_ADMIN_EMAIL and DEALFLOW_ADMIN_PASSWORD, or neither"
            )
        return self


async def ensure_bootstrap_admin(service: DealsService, settings: Settings) -> None:
    """Create the configured administrator unless that user exists already."""
    if not settings.admin_email:
        return
    user = await service.org.ensure_admin(
        email=settings.admin_email, password=settings.admin_password.get_secret_value()
    )
    log.info("bootstrap admin ready", extra={"user_id": user.id})


async def start_server(
    service: DealsService, *, host: str = "127.0.0.1", port: int = 0
) -> tuple[grpc.aio.Server, int]:
    """The service in process, for tests (with the default roles, as at start-up)."""
    await service.access.ensure_default_roles()
    return await start_in_process(lambda server: register(server, service), host=host, port=port)


async def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    serve_metrics(settings.metrics_port)
    engine = create_engine(settings.database_url)
    service = DealsService(engine)
    await service.access.ensure_default_roles()
    await ensure_bootstrap_admin(service, settings)
    await run_service(
        name="deals",
        settings=settings,
        engine=engine,
        outbox=outbox,
        register=lambda server: register(server, service),
        consumers=[
            lambda js: decisions_consumer(js, engine).run,
            lambda js: money_consumer(js, engine).run,
            lambda _: partial(service.pipelines.cache.listen, engine),
            lambda _: partial(keep_folding, engine),
        ],
    )


if __name__ == "__main__":
    run_main(main())
