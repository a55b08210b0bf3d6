"""Liveness, readiness (every dependency answers) and Prometheus metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.common.errors import FieldProblem
from services.gateway.clients import Probe
from services.gateway.deps import AppClients, Settings
from services.gateway.problems import Problem, responses

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", responses=responses(503))
async def readyz(clients: AppClients, settings: Settings) -> dict[str, object]:
    """Every service answers its gRPC health check and Temporal is reachable."""
    timeout = settings.readiness_timeout_seconds
    names = list(clients.probes)
    results = await asyncio.gather(*(_check(clients.probes[name], timeout) for name in names))
    down = [
        FieldProblem(name, reason) for name, reason in zip(names, results, strict=True) if reason
    ]
    if down:
        raise Problem(
            503,
            "not ready: " + ", ".join(p.field for p in down),
            errors=down,
            headers={"Retry-After": str(settings.retry_after_seconds)},
        )
    return {"status": "ok", "checks": dict.fromkeys(names, "ok")}


async def _check(probe: Probe, timeout: float) -> str:
    """ "" when the dependency answered, else why not."""
    try:
        await asyncio.wait_for(probe(timeout), timeout)
    except TimeoutError:
        return f"no answer within {timeout}s"
    except Exception as exc:  # a probe failing in any way means "down", with its reason
        return str(exc) or type(exc).__name__
    return ""


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
