"""Settings shared by every component, read from the environment (pydantic-settings).

Shared infrastructure addresses have no prefix (DATABASE_URL, NATS_URL, TEMPORAL_ADDRESS);
each service's own settings use its prefix (DEALS_, NOTIFICATIONS_, GATEWAY_, WORKER_ ...).
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _alias(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class CommonSettings(BaseSettings):
    """Infrastructure every component talks to."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: str = Field(
        "postgresql+psycopg://postgres@127.0.0.1:5432/dealflow",
        validation_alias=_alias("DATABASE_URL"),
    )
    nats_url: str = Field("nats://127.0.0.1:4222", validation_alias=_alias("NATS_URL"))
    # How long a consumer's delivered event waits for its ack before it is delivered again
    # (the time a consumer that died holding events takes to see them again).
    nats_ack_wait_seconds: float = Field(
        30.0, gt=0, validation_alias=_alias("NATS_ACK_WAIT_SECONDS")
    )
    temporal_address: str = Field("127.0.0.1:7233", validation_alias=_alias("TEMPORAL_ADDRESS"))
    temporal_namespace: str = Field("default", validation_alias=_alias("TEMPORAL_NAMESPACE"))
    task_queue: str = Field("dealflow", validation_alias=_alias("DEALFLOW_TASK_QUEUE"))
    log_level: str = Field("INFO", validation_alias=_alias("DEALFLOW_LOG_LEVEL"))
    log_format: str = Field("text", validation_alias=_alias("DEALFLOW_LOG_FORMAT"))
    metrics_port: int = Field(0, validation_alias=_alias("DEALFLOW_METRICS_PORT"))
    deals_addr: str = Field("127.0.0.1:50051", validation_alias=_alias("DEALFLOW_DEALS_ADDR"))
    approvals_addr: str = Field(
        "127.0.0.1:50052", validation_alias=_alias("DEALFLOW_APPROVALS_ADDR")
    )
    finance_addr: str = Field("127.0.0.1:50053", validation_alias=_alias("DEALFLOW_FINANCE_ADDR"))
    notifications_addr: str = Field(
        "127.0.0.1:50054", validation_alias=_alias("DEALFLOW_NOTIFICATIONS_ADDR")
    )

    @field_validator("database_url")
    @classmethod
    def _psycopg_driver(cls, value: str) -> str:
        """Accept plain postgresql:// URLs and use psycopg 3 for them."""
        for prefix in ("postgresql://", "postgres://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @field_validator("log_format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in {"text", "json"}:
            raise ValueError("DEALFLOW_LOG_FORMAT must be 'text' or 'json'")
        return value


class ServiceSettings(CommonSettings):
    """A gRPC service: where it listens and how long it drains on SIGTERM."""

    grpc_port: int = 0
    grpc_host: str = "127.0.0.1"
    shutdown_grace_seconds: float = 5.0
    outbox_retention_hours: int = 72
