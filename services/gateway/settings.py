"""Gateway settings: GATEWAY_* for its own, the shared ones (service addresses, Temporal)
from CommonSettings."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from services.common.settings import CommonSettings


class GatewaySettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", populate_by_name=True)

    host: str = "127.0.0.1"
    port: int = 8000
    # Required: a signing secret baked into code would sign tokens anyone can forge.
    jwt_secret: SecretStr
    access_token_minutes: int = 15
    # How long a checked credential is trusted before the deals service is asked again:
    # the longest a logout, a revoked API token or a role change waits to take effect.
    auth_cache_seconds: float = 2.0
    request_timeout_seconds: float = 10.0
    readiness_timeout_seconds: float = 2.0
    max_body_bytes: int = 1024 * 1024
    # Uploads (POST /api/v1/files): their own size limit and the media types accepted.
    max_upload_bytes: int = 25 * 1024 * 1024
    upload_content_types: list[str] = [
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/tiff",
        "text/plain",
        "text/csv",
        "application/zip",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/octet-stream",
    ]
    # Every Retry-After the gateway sends when a dependency is down.
    retry_after_seconds: int = 5
    # How long an Idempotency-Key's first answer is kept; the API promises at least 24 h.
    idempotency_ttl_hours: int = 48
    max_import_bytes: int = Field(20 * 1024 * 1024, ge=1)  # a CSV file for POST /imports
    # requests per minute one token may send to POST /lead-capture (per gateway replica)
    lead_capture_per_minute: int = Field(60, ge=1)
    # Per-user limit on expensive calls (reports, searches, exports): a bucket of `burst`
    # calls refilled at `per_minute`; past it 429 with Retry-After. burst 0 turns it off.
    expensive_calls_per_minute: float = 60.0
    expensive_calls_burst: int = 30
    # How often uploads' blobs that no file record uses (older than a day) are deleted; 0: never.
    blob_sweep_hours: float = 6.0
    # Live events (GET /api/v1/events): a comment line after this long without an event (so
    # proxies keep the stream open and clients notice a dead one), how often an open stream
    # checks its caller's credential and visibility again (the longest a deactivated user
    # or a narrowed role keeps receiving), and how many events of each stream are kept for
    # clients resuming with Last-Event-ID.
    # How long an idle HTTP keep-alive connection stays open.
    keep_alive_seconds: int = Field(75, ge=1)
    events_heartbeat_seconds: float = Field(15.0, gt=0)
    events_access_seconds: float = Field(5.0, gt=0)
    events_backlog: int = Field(10_000, ge=100)
    # The Temporal UI the board (/app) links a deal's workflows to.
    temporal_ui_url: str = "http://localhost:8233"
    # Strict-Transport-Security max-age, sent on requests that came over https; 0: never.
    hsts_seconds: int = 31_536_000

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        # HS256 keys shorter than the hash output are brute-forceable (RFC 7518 §3.2).
        if len(value.get_secret_value()) < 32:
            raise ValueError("GATEWAY_JWT_SECRET must be at least 32 characters")
        return value

    @field_validator("idempotency_ttl_hours")
    @classmethod
    def _a_day_at_least(cls, value: int) -> int:
        if value < 24:
            raise ValueError("GATEWAY_IDEMPOTENCY_TTL_HOURS must be at least 24")
        return value

    @field_validator("access_token_minutes")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("GATEWAY_ACCESS_TOKEN_MINUTES must be positive")
        return value
