"""Operations: health, readiness, metrics, body limit, OpenAPI and start-up settings."""

from __future__ import annotations

import pytest

from services.common.grpc_client import ServiceUnavailable
from services.gateway.main import load_settings
from tests.unit.gateway.conftest import World, deal_msg


async def test_healthz(world: World) -> None:
    reply = await world.http.get("/healthz")

    assert (reply.status_code, reply.json()) == (200, {"status": "ok"})


async def test_readyz_when_everything_answers(world: World) -> None:
    reply = await world.http.get("/readyz")

    assert reply.status_code == 200
    assert reply.json()["checks"] == {"deals": "ok", "notifications": "ok", "temporal": "ok"}


async def test_readyz_lists_what_is_down(world: World) -> None:
    async def down(timeout: float) -> None:
        raise ServiceUnavailable("connection refused")

    world.probes["temporal"] = down

    reply = await world.http.get("/readyz")

    assert reply.status_code == 503
    assert reply.headers["retry-after"] == "7"
    assert reply.json()["errors"] == [{"field": "temporal", "message": "connection refused"}]


async def test_metrics_count_requests_by_route_template(world: World) -> None:
    world.deals.answers["GetDeal"] = deal_msg()
    await world.http.get("/api/v1/deals/42", headers=world.auth())

    reply = await world.http.get("/metrics")

    assert reply.status_code == 200
    line = 'dealflow_http_requests_total{method="GET",route="/api/v1/deals/{deal_id}",status="200"}'
    assert line in reply.text
    assert "/api/v1/deals/42" not in reply.text
    assert "dealflow_http_request_duration_seconds_bucket" in reply.text


async def test_request_logged_with_route_status_and_duration(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.deals.answers["GetDeal"] = deal_msg()
    with caplog.at_level("INFO", logger="services.gateway.access"):
        await world.http.get("/api/v1/deals/42", headers=world.auth())

    record = next(r for r in caplog.records if r.name == "services.gateway.access")
    assert (record.method, record.route, record.status) == ("GET", "/api/v1/deals/{deal_id}", 200)  # type: ignore[attr-defined]
    assert record.duration_ms >= 0  # type: ignore[attr-defined]


async def test_oversized_body_is_413(world: World) -> None:
    reply = await world.http.post(
        "/api/v1/deals",
        json={"pipeline_id": 3, "title": "x" * 10_000},
        headers=world.auth(),
    )

    assert reply.status_code == 413
    assert reply.headers["content-type"] == "application/problem+json"
    assert world.deals.business_calls() == []


async def test_oversized_chunked_body_is_413(world: World) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield b"x" * 1000

    reply = await world.http.post(
        "/api/v1/deals",
        content=chunks(),
        headers={**world.auth(), "Content-Type": "application/json"},
    )

    assert reply.status_code == 413


async def test_openapi_documents_problems(world: World) -> None:
    spec = (await world.http.get("/openapi.json")).json()

    move = spec["paths"]["/api/v1/deals/{deal_id}/move"]["post"]["responses"]
    assert "application/problem+json" in move["422"]["content"]
    assert {t["name"] for t in spec["tags"]} >= {"deals", "tasks", "pipelines"}


def test_start_fails_clearly_without_jwt_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GATEWAY_JWT_SECRET", raising=False)

    with pytest.raises(SystemExit) as exited:
        load_settings()

    assert exited.value.code == 2
    assert "GATEWAY_JWT_SECRET" in capsys.readouterr().err


def test_short_jwt_secret_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GATEWAY_JWT_SECRET", "short")

    with pytest.raises(SystemExit):
        load_settings()

    assert "at least 32 characters" in capsys.readouterr().err
