"""The mail intake process: an SMTP server (aiosmtpd) that turns mail into leads through the
deals service's CrmService. `python -m services.intake.main`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiosmtpd.smtp import SMTP
from dealflow.deals.v1 import crm_pb2_grpc
from pydantic import AliasChoices, Field

from services.common.blobs import blob_store
from services.common.grpc_client import channel
from services.common.logging import configure_logging
from services.common.metrics import serve_metrics
from services.common.settings import CommonSettings
from services.intake.smtp import IntakeHandler

log = logging.getLogger(__name__)


class IntakeSettings(CommonSettings):
    smtp_host: str = Field("127.0.0.1", validation_alias=AliasChoices("DEALFLOW_SMTP_INTAKE_HOST"))
    smtp_port: int = Field(2525, validation_alias=AliasChoices("DEALFLOW_SMTP_INTAKE_PORT"))
    max_bytes: int = Field(
        25 * 1024 * 1024, validation_alias=AliasChoices("DEALFLOW_SMTP_MAX_BYTES")
    )
    rpc_timeout_seconds: float = Field(
        15.0, validation_alias=AliasChoices("DEALFLOW_SMTP_RPC_TIMEOUT_SECONDS")
    )


async def start(settings: IntakeSettings) -> asyncio.Server:
    """The listening SMTP server (port 0: any free port, for tests)."""
    chan = channel(settings.deals_addr)
    handler = IntakeHandler(
        crm_pb2_grpc.CrmServiceStub(chan),
        blob_store(),
        max_bytes=settings.max_bytes,
        timeout=settings.rpc_timeout_seconds,
    )
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: SMTP(
            handler,
            data_size_limit=settings.max_bytes,
            hostname="dealflow-intake",
            ident="Dealflow intake",
            timeout=60,
        ),
        host=settings.smtp_host,
        port=settings.smtp_port,
    )


async def main() -> None:
    settings = IntakeSettings()
    configure_logging(settings.log_level, settings.log_format)
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    serve_metrics(settings.metrics_port)
    server = await start(settings)
    log.info("SMTP intake listening", extra={"port": settings.smtp_port})
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()  # no new connections; a message in DATA finishes or its sender retries
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(server.wait_closed(), timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
