"""gRPC server bootstrap shared by every service: health, reflection, one interceptor that
maps domain errors to status codes, graceful stop on SIGTERM, background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

import grpc
import psycopg
import sqlalchemy as sa
from google.protobuf.message import Message
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.common import metrics
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
from services.common.wire_checks import nul_problems

log = logging.getLogger(__name__)

ACTOR_KEY = "x-actor-id"
# What a stopped, restarting or unreachable PostgreSQL raises (psycopg's OperationalError
# wrapped by SQLAlchemy, or raw when a pooled connection dies under it).
DATABASE_DOWN = (sa.exc.OperationalError, sa.exc.InterfaceError, psycopg.OperationalError, OSError)
PROBLEM_KEY = "problem-bin"

_STATUS: list[tuple[type[DomainError], grpc.StatusCode]] = [
    (ValidationFailed, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (Conflict, grpc.StatusCode.ABORTED),
    (PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (TooManyAttempts, grpc.StatusCode.RESOURCE_EXHAUSTED),
]


def status_for(error: DomainError) -> grpc.StatusCode:
    for kind, code in _STATUS:
        if isinstance(error, kind):
            return code
    return grpc.StatusCode.FAILED_PRECONDITION


# A client refuses a call whose metadata passes 8 KiB (some of the time) or 16 KiB (always)
# with RESOURCE_EXHAUSTED: the caller's 422 would become a 429. Input that earns hundreds of
# problems (a list of 300 duplicates) or echoes a huge value must still fit.
_PROBLEM_BYTES = 6 * 1024
_DETAILS_CHARS = 200  # the status message, percent-encoded on the wire: up to 12 bytes a char


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def status_details(error: DomainError) -> str:
    return _cut(error.message, _DETAILS_CHARS)


def problem_payload(error: DomainError) -> bytes:
    """The problem details for trailing metadata: the first problems that fit in the
    budget, then how many more there were."""
    problems = [
        {"field": _cut(p.field, 300), "message": _cut(p.message, 300)}
        for p in getattr(error, "problems", [])
    ]
    shown = len(problems)
    while True:
        more = [{"field": "", "message": f"and {len(problems) - shown} more"}]
        payload = json.dumps(
            {
                "code": error.code,
                "message": _cut(error.message, 500),
                "problems": problems[:shown] + (more if shown < len(problems) else []),
            },
            ensure_ascii=False,
        ).encode()
        if len(payload) <= _PROBLEM_BYTES or shown == 0:
            return payload
        shown //= 2


def actor_id(context: grpc.aio.ServicerContext[Any, Any]) -> int | None:
    """The user on whose behalf the call is made (None for the system)."""
    for key, value in context.invocation_metadata() or ():
        if key == ACTOR_KEY and value:
            try:
                return int(value)
            except ValueError:
                return None
    return None


class DomainErrorInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Turns a DomainError into its status code with the field problems in trailing
    metadata, and counts every call per RPC and outcome."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary
        method = details.method

        async def behavior(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            started = time.perf_counter()
            code = "OK"
            try:
                problems = nul_problems(request) if isinstance(request, Message) else []
                if problems:
                    raise ValidationFailed(problems)
                return await inner(request, context)
            except DATABASE_DOWN as exc:
                # Not the caller's fault and not a bug: the caller may retry (503 at the
                # gateway, a retried activity in a workflow).
                code = grpc.StatusCode.UNAVAILABLE.name
                log.warning("%s: the database is unavailable: %s", method, exc)
                await context.abort(grpc.StatusCode.UNAVAILABLE, "the database is unavailable")
            except sa.exc.DataError as exc:
                # The database refused a value (out of range, unrepresentable): the
                # caller's value, not a fault of ours.
                code = grpc.StatusCode.INVALID_ARGUMENT.name
                log.warning("%s: value refused by the database: %s", method, exc.orig)
                refused = ValidationFailed(
                    FieldProblem("", f"a value is not acceptable: {exc.orig}")
                )
                await context.abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    status_details(refused),
                    trailing_metadata=((PROBLEM_KEY, problem_payload(refused)),),
                )
            except DomainError as exc:
                status = status_for(exc)
                code = status.name
                await context.abort(
                    status,
                    status_details(exc),
                    trailing_metadata=((PROBLEM_KEY, problem_payload(exc)),),
                )
            except asyncio.CancelledError:
                code = "CANCELLED"
                raise
            except Exception:
                if context.code() is None:  # abort() raises too; only log real faults
                    code = "INTERNAL"
                    log.exception("unhandled error in %s", method)
                raise
            finally:
                metrics.observe_rpc(method, code, time.perf_counter() - started)

        return grpc.unary_unary_rpc_method_handler(
            behavior,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


Background = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


async def serve(
    *,
    name: str,
    host: str,
    port: int,
    register: Callable[[grpc.aio.Server], Sequence[str]],
    background: Sequence[Background] = (),
    grace_seconds: float = 5.0,
    on_stop: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run a gRPC service until SIGTERM/SIGINT, then drain in-flight calls and stop.

    `register` adds the servicers and returns their full service names (for health and
    reflection); `background` tasks (outbox relay, consumers) get the stop event.
    """
    server = grpc.aio.server(interceptors=[DomainErrorInterceptor()])
    service_names = list(register(server))
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        [*service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
    )
    bound = server.add_insecure_port(f"{host}:{port}")
    await server.start()
    for svc in ["", *service_names]:
        await health_servicer.set(svc, health_pb2.HealthCheckResponse.SERVING)
    log.info("%s listening", name, extra={"address": f"{host}:{bound}"})

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(job(stop)) for job in background]
    await stop.wait()

    log.info("%s stopping", name)
    for svc in ["", *service_names]:
        await health_servicer.set(svc, health_pb2.HealthCheckResponse.NOT_SERVING)
    await server.stop(grace_seconds)
    for task in tasks:
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=grace_seconds)
    if on_stop is not None:
        await on_stop()
    log.info("%s stopped", name)


async def start_in_process(
    register: Callable[[grpc.aio.Server], Sequence[str]], *, host: str = "127.0.0.1", port: int = 0
) -> tuple[grpc.aio.Server, int]:
    """A servicer behind the shared error interceptor, started without signal handling
    (for in-process tests); returns the server and its bound port."""
    server = grpc.aio.server(interceptors=[DomainErrorInterceptor()])
    register(server)
    bound = server.add_insecure_port(f"{host}:{port}")
    await server.start()
    return server, bound
