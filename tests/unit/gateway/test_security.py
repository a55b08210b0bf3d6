"""Security headers on every answer, and the per-user limit on expensive calls."""

from __future__ import annotations

import httpx
import pytest
from dealflow.deals.v1 import deals_pb2

from services.gateway.rate_limit import RateLimiter
from tests.unit.gateway.conftest import World


class Clock:
    def __init__(self) -> None:
        self.now = 5.0  # a machine five seconds after boot

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("GET", "/api/v1/me", 401),
        ("GET", "/api/v1/nowhere", 404),
        ("GET", "/openapi.json", 200),
    ],
)
async def test_every_answer_carries_the_security_headers(
    world: World, method: str, path: str, status: int
) -> None:
    resp = await world.http.request(method, path)

    assert resp.status_code == status
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert "Strict-Transport-Security" not in resp.headers, "not over plain http"
    if path.startswith("/api/"):
        assert resp.headers["Cache-Control"] == "no-store"


async def test_a_too_large_body_carries_them_too(world: World) -> None:
    resp = await world.http.post("/api/v1/deals", content=b"x" * 10_000, headers=world.auth())

    assert resp.status_code == 413
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_hsts_is_sent_over_https_or_behind_a_proxy_that_says_so(world: World) -> None:
    behind = await world.http.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert behind.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    transport = httpx.ASGITransport(app=world.app)
    async with httpx.AsyncClient(transport=transport, base_url="https://gw") as direct:
        assert "Strict-Transport-Security" in (await direct.get("/healthz")).headers


def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    limits = RateLimiter(per_minute=60, burst=3, clock=clock)

    assert [limits.take("7") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limits.take("7") == pytest.approx(1.0)
    assert limits.take("8") == 0.0, "another user has a bucket of their own"
    clock.now += 1.0
    assert limits.take("7") == 0.0
    assert limits.take("7") > 0


async def test_searching_past_the_limit_answers_429_with_retry_after(world: World) -> None:
    world.app.state.expensive_calls = RateLimiter(per_minute=6, burst=2, clock=Clock())
    world.deals.answers["ListDeals"] = deals_pb2.ListDealsResponse()
    search = [await world.http.get("/api/v1/deals?q=acme", headers=world.auth()) for _ in "abc"]

    assert [r.status_code for r in search] == [200, 200, 429]
    assert search[2].headers["Retry-After"] == "10"
    assert search[2].headers["content-type"].startswith("application/problem+json")
    plain = await world.http.get("/api/v1/deals", headers=world.auth())
    assert plain.status_code == 200, "a plain list is not a search"
    other = await world.http.get("/api/v1/deals?q=acme", headers=world.auth(8))
    assert other.status_code == 200
