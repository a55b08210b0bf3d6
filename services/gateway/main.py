"""The gateway: the app factory and `python -m services.gateway.main`."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import uvicorn
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from pydantic import ValidationError

from services.common.logging import configure_logging
from services.common.metrics import serve_metrics
from services.common.tracing import instrument_grpc_client, setup_tracing
from services.gateway import board, idempotency, problems
from services.gateway.auth import PrincipalCache
from services.gateway.blob_sweep import sweep_forever
from services.gateway.clients import Clients, open_clients
from services.gateway.deps import ProcessApi
from services.gateway.idempotency_store import IdempotencyStore, MemoryStore
from services.gateway.live.hub import Hub
from services.gateway.middleware import BodyLimitMiddleware, ObservabilityMiddleware
from services.gateway.rate_limit import RateLimiter
from services.gateway.routes import (
    API_PREFIX,
    activities,
    alerts,
    approval_templates,
    approvals,
    auth,
    automation,
    blueprints,
    calendar_feed,
    contacts,
    contracts,
    deal_chat,
    deal_folders,
    deals,
    delivery,
    events,
    exclusions,
    expenses,
    files,
    health,
    imports,
    invoices,
    lead_capture,
    lead_processes,
    leads,
    lists,
    notifications,
    org,
    payment_requests,
    payment_schedule,
    payments,
    pipelines,
    processes,
    products,
    proposal_report,
    reminder_plans,
    reports,
    rules,
    tasks,
    users,
)
from services.gateway.routes.events import deal_fetcher
from services.gateway.security_headers import SecurityHeadersMiddleware
from services.gateway.settings import GatewaySettings
from services.gateway.task_owners import TaskOwners

TAGS = [
    {"name": "auth", "description": "Bearer tokens (OAuth2 password flow)."},
    {"name": "users", "description": "Users; admins create and change them."},
    {"name": "org", "description": "Departments, roles and the audit log."},
    {
        "name": "blueprints",
        "description": "A company's whole configuration as one YAML file: apply, export.",
    },
    {
        "name": "pipelines",
        "description": "Pipelines, stages, custom fields and stage automation rules (admin).",
    },
    {"name": "deals", "description": "Deals, their moves, timeline and stage history."},
    {"name": "activities", "description": "Calls, e-mails and meetings, planned or done."},
    {"name": "reminder plans", "description": "How often to write, call and meet a client."},
    {"name": "calendar feed", "description": "A secret iCalendar URL of one's own dates."},
    {
        "name": "leads",
        "description": "Leads in lead funnels, conversion into deals, the exclusion list and "
        "the mail intake.",
    },
    {"name": "contacts", "description": "Contacts and companies."},
    {"name": "automation", "description": "A deal's rule runs, and the company calendar."},
    {"name": "processes", "description": "Long-running processes of a deal (Temporal)."},
    {"name": "tasks", "description": "People's steps of processes, and plain tasks."},
    {"name": "notifications", "description": "The caller's notification feed."},
    {"name": "lists", "description": "Admin-editable lists."},
    {"name": "approvals", "description": "Approval requests, their rounds and decisions."},
    {"name": "approval templates", "description": "Approval chains as data."},
    {"name": "contracts", "description": "The contract registry and contract types."},
    {"name": "files", "description": "Uploads and downloads of deal files."},
    {
        "name": "finance",
        "description": "Invoices, the payment registry, payment requests, expenses and the "
        "payment schedule. Amounts are decimal strings.",
    },
    {
        "name": "reports",
        "description": "Reports: the funnel with drill-down, manager activity, time in stage, "
        "deal margin; JSON, CSV or XLSX by the Accept header.",
    },
    {"name": "health", "description": "Liveness, readiness and metrics."},
]


def create_app(
    settings: GatewaySettings,
    *,
    clients: Clients | None = None,
    processes_api: ProcessApi | None = None,
    idempotency_store: IdempotencyStore | None = None,
) -> FastAPI:
    """The gateway app. Given `clients` (fakes in tests) it uses them and opens nothing
    (Idempotency-Key records then live in memory unless a store is given); otherwise the
    lifespan opens the channels and the Temporal client once."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if clients is not None:
            yield
            return
        app.state.clients = open_clients(settings)
        app.state.hub = Hub(backlog=settings.events_backlog)
        following = asyncio.create_task(
            app.state.hub.start(
                settings.nats_url,
                deal_fetcher(app.state.clients, settings.request_timeout_seconds),
            )
        )
        sweeping = None
        if settings.blob_sweep_hours > 0:
            sweeping = asyncio.create_task(
                sweep_forever(
                    app.state.clients.blobs,
                    app.state.clients.files,
                    every=timedelta(hours=settings.blob_sweep_hours),
                    older_than=timedelta(hours=24),
                )
            )
        try:
            yield
        finally:
            if sweeping is not None:
                sweeping.cancel()
            following.cancel()
            await app.state.hub.close()
            await app.state.clients.close()

    # The docs' scripts and styles come from an installed package (fastapi-offline), not a
    # CDN: /docs and /redoc work offline and on a closed company network.
    app = FastAPIOffline(
        title="Dealflow API",
        version="1.0.0",
        description="CRM deals and their durable processes. Errors are RFC 9457 "
        "`application/problem+json`.",
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clients = clients
    app.state.processes = processes_api
    app.state.hub = None  # live events: started by the lifespan (not with fake clients)
    app.state.principals = PrincipalCache(settings.auth_cache_seconds)
    app.state.task_owners = TaskOwners()  # task → its workflow and assignee (fixed facts)
    app.state.expensive_calls = RateLimiter(
        per_minute=settings.expensive_calls_per_minute, burst=settings.expensive_calls_burst
    )
    problems.install(app, retry_after_seconds=settings.retry_after_seconds)
    problems.document_problems(app)
    if idempotency_store is None:
        in_tests = clients is not None
        idempotency_store = MemoryStore() if in_tests else idempotency.default_store(settings)
    idempotency.install(app, settings, idempotency_store)  # inside the body limit
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        # multipart framing on top of the file's own limit (checked while it is stored)
        limits={
            API_PREFIX + "/files": settings.max_upload_bytes + 64 * 1024,
            API_PREFIX + "/imports": settings.max_import_bytes + 64 * 1024,
        },
    )
    app.add_middleware(SecurityHeadersMiddleware, hsts_seconds=settings.hsts_seconds)
    app.add_middleware(ObservabilityMiddleware)  # outermost: it also sees the 413s
    for module in (
        auth,
        users,
        org,
        pipelines,
        rules,
        deals,
        activities,
        reminder_plans,
        alerts,
        calendar_feed,
        leads,
        lead_processes,
        lead_capture,
        imports,
        contacts,
        exclusions,
        automation,
        processes,
        tasks,
        notifications,
        lists,
        products,
    ):
        app.include_router(module.router)
    app.include_router(auth.tokens)
    app.include_router(processes.catalog)
    for module in (
        approvals,
        approval_templates,
        contracts,
        files,
        deal_folders,
        deal_chat,
        delivery,
        events,  # include_in_schema=False: a stream is not a request-response operation
        blueprints,
    ):
        app.include_router(module.router)
    for finance in (invoices, payments, payment_requests, expenses, payment_schedule, reports):
        app.include_router(finance.router)
    app.include_router(proposal_report.router)
    app.include_router(health.router)
    board.install(app)
    return app


def load_settings() -> GatewaySettings:
    try:
        return GatewaySettings()  # jwt_secret comes from the env
    except ValidationError as exc:
        for error in exc.errors():
            name = "GATEWAY_" + "_".join(str(p) for p in error["loc"]).upper()
            print(f"gateway: {name}: {error['msg']}", file=sys.stderr)
        raise SystemExit(2) from None


def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    serve_metrics(settings.metrics_port)  # the same registry as /metrics, on the scrape port
    app = create_app(settings)
    if setup_tracing("gateway"):
        instrument_grpc_client()
        FastAPIInstrumentor.instrument_app(app)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        # An idle keep-alive connection is kept longer than clients and proxies keep theirs
        # (uvicorn's 5 s made a client reusing one just as it closed see a reset request).
        timeout_keep_alive=settings.keep_alive_seconds,
    )


if __name__ == "__main__":
    main()
