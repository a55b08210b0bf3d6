"""Calling the services: channels, the acting user in metadata, status codes back to
domain errors (so the gateway and the activities see the same errors the service raised)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from services.common.errors import (
    AlreadyExists,
    Conflict,
    DomainError,
    FieldProblem,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
    Unauthenticated,
    ValidationFailed,
)
from services.common.grpc_server import ACTOR_KEY, PROBLEM_KEY

Resp = TypeVar("Resp")

_CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
    # gRPC's default backoff grows to two minutes: a service back after a restart would go
    # on answering 503 that long. Reconnect at least every 5 s.
    ("grpc.max_reconnect_backoff_ms", 5_000),
]


class ServiceUnavailable(Exception):
    """The service could not be reached or did not answer in time (retry later)."""


def channel(address: str) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(address, options=_CHANNEL_OPTIONS)


def metadata(actor: int | str | None) -> tuple[tuple[str, str], ...]:
    return ((ACTOR_KEY, str(actor)),) if actor not in (None, "") else ()


async def call(
    method: Callable[..., Awaitable[Resp]],
    request: Any,
    *,
    actor: int | str | None = None,
    timeout: float = 10.0,
) -> Resp:
    """Call an RPC on behalf of `actor`, translating status codes to domain errors."""
    try:
        return await method(request, metadata=metadata(actor), timeout=timeout)
    except grpc.aio.AioRpcError as exc:
        raise error_from_rpc(exc) from exc


def error_from_rpc(exc: grpc.aio.AioRpcError) -> Exception:
    code = exc.code()
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return ServiceUnavailable(exc.details() or code.name)
    problem: dict[str, Any] = {}
    for key, value in exc.trailing_metadata() or ():
        if key == PROBLEM_KEY:
            problem = json.loads(value)
    message = problem.get("message") or exc.details() or code.name
    problems = [FieldProblem(p["field"], p["message"]) for p in problem.get("problems", [])]
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return ValidationFailed(problems or [FieldProblem("", message)], message)
    kinds: dict[grpc.StatusCode, type[DomainError]] = {
        grpc.StatusCode.NOT_FOUND: NotFound,
        grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
        grpc.StatusCode.ABORTED: Conflict,
        grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
        grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
        grpc.StatusCode.RESOURCE_EXHAUSTED: TooManyAttempts,
        grpc.StatusCode.FAILED_PRECONDITION: DomainError,
    }
    kind = kinds.get(code)
    return kind(message, problems) if kind else exc
