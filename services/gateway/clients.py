"""The gateway's connections, opened once per process: a gRPC channel and stub per
service, and the Temporal client (connected in the background, retried until reachable,
so the gateway starts and reports not-ready while Temporal is still coming up)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import grpc
from dealflow.approvals.v1 import approvals_pb2_grpc
from dealflow.deals.v1 import (
    activities_pb2_grpc,
    automation_pb2_grpc,
    crm_pb2_grpc,
    deals_pb2_grpc,
    files_pb2_grpc,
    products_pb2_grpc,
    reports_pb2_grpc,
)
from dealflow.finance.v1 import finance_pb2_grpc
from dealflow.notifications.v1 import calendar_feeds_pb2_grpc, notifications_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from temporalio.client import Client

from services.common.blobs import blob_store
from services.common.grpc_client import ServiceUnavailable, channel
from services.common.tracing import temporal_interceptors
from services.gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

# A readiness probe returns normally when its dependency answers, raises otherwise.
Probe = Callable[[float], Awaitable[None]]


class TemporalConnection:
    """Holds the one Temporal client; `get()` answers 503 until it is connected."""

    def __init__(self, client: Client | None = None) -> None:
        self._client = client
        self._task: asyncio.Task[None] | None = None

    def get(self) -> Client:
        if self._client is None:
            raise ServiceUnavailable("Temporal is not connected yet")
        return self._client

    @property
    def connected(self) -> bool:
        return self._client is not None

    def start(self, address: str, namespace: str) -> None:
        self._task = asyncio.create_task(self._connect(address, namespace))

    async def _connect(self, address: str, namespace: str) -> None:
        delay = 0.5
        while True:
            try:
                self._client = await Client.connect(
                    address, namespace=namespace, interceptors=temporal_interceptors()
                )
            except Exception as exc:  # any failure to connect means: not there yet, retry
                log.warning("Temporal not reachable, retrying in %.1fs: %s", delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            else:
                log.info("connected to Temporal", extra={"address": address})
                return

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def probe(self, timeout: float) -> None:
        ok = await self.get().service_client.check_health(timeout=timedelta(seconds=timeout))
        if not ok:
            raise ServiceUnavailable("Temporal reports not serving")


@dataclass
class Clients:
    """What the routes call: stubs (or fakes in tests) and the readiness probes."""

    deals: Any
    notifications: Any
    temporal: TemporalConnection
    probes: dict[str, Probe] = field(default_factory=dict)
    channels: list[grpc.aio.Channel] = field(default_factory=list)
    approvals: Any = None
    files: Any = None  # FilesService, served by the deals process
    blobs: Any = None  # services.common.blobs.BlobStore
    finance: Any = None
    crm: Any = None  # CrmService (contacts, companies, leads, intake), served by the deals process
    automation: Any = None  # AutomationService, served by the deals process
    products: Any = None  # ProductsService (catalogue, deal line items), the deals process
    activities: Any = None  # ActivitiesService (activities, reminder plans, alerts), the same
    feeds: Any = None  # CalendarFeedsService, served by the notifications process
    reports: Any = None  # ReportsService (funnel, activity, time in stage), the deals process

    async def close(self) -> None:
        await self.temporal.close()
        for ch in self.channels:
            await ch.close()


def grpc_health_probe(ch: grpc.aio.Channel) -> Probe:
    stub = health_pb2_grpc.HealthStub(ch)

    async def probe(timeout: float) -> None:
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            raise ServiceUnavailable(exc.details() or exc.code().name) from exc
        if reply.status != health_pb2.HealthCheckResponse.SERVING:
            raise ServiceUnavailable("not serving")

    return probe


def open_clients(settings: GatewaySettings) -> Clients:
    """Channels connect lazily, so this never blocks; Temporal connects in the background."""
    addresses = {
        "deals": settings.deals_addr,
        "notifications": settings.notifications_addr,
        "approvals": settings.approvals_addr,
        "finance": settings.finance_addr,
    }
    channels = {name: channel(addr) for name, addr in addresses.items()}
    temporal = TemporalConnection()
    temporal.start(settings.temporal_address, settings.temporal_namespace)
    probes = {name: grpc_health_probe(ch) for name, ch in channels.items()}
    probes["temporal"] = temporal.probe
    return Clients(
        deals=deals_pb2_grpc.DealsServiceStub(channels["deals"]),
        notifications=notifications_pb2_grpc.NotificationsServiceStub(channels["notifications"]),
        temporal=temporal,
        probes=probes,
        channels=list(channels.values()),
        approvals=approvals_pb2_grpc.ApprovalsServiceStub(channels["approvals"]),
        files=files_pb2_grpc.FilesServiceStub(channels["deals"]),
        blobs=blob_store(),
        finance=finance_pb2_grpc.FinanceServiceStub(channels["finance"]),
        crm=crm_pb2_grpc.CrmServiceStub(channels["deals"]),
        automation=automation_pb2_grpc.AutomationServiceStub(channels["deals"]),
        products=products_pb2_grpc.ProductsServiceStub(channels["deals"]),
        activities=activities_pb2_grpc.ActivitiesServiceStub(channels["deals"]),
        feeds=calendar_feeds_pb2_grpc.CalendarFeedsServiceStub(channels["notifications"]),
        reports=reports_pb2_grpc.ReportsServiceStub(channels["deals"]),
    )
