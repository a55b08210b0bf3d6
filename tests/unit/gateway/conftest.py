"""The gateway app over fake gRPC stubs, a fake Temporal client and a fake process
starter: no network, every test drives the real routes, handlers and middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from dealflow.deals.v1 import access_pb2, crm_pb2, deals_pb2
from fastapi import FastAPI

from services.common.access import Permission
from services.gateway.auth import Principal, issue_token
from services.gateway.clients import Clients, TemporalConnection
from services.gateway.main import create_app
from services.gateway.settings import GatewaySettings
from workflows.api import StartResult, TaskAnswerResult

SECRET = "test-secret-" + "x" * 32
ADMIN_ID = 1
USER_ID = 7


@dataclass
class Call:
    method: str
    request: Any
    metadata: tuple[tuple[str, str], ...]


class FakeStub:
    """Each RPC answers from `answers[name]`: a value, an exception to raise, or a
    callable of the request. Every call is recorded with its metadata."""

    def __init__(self) -> None:
        self.answers: dict[str, Any] = {}
        self.calls: list[Call] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        async def rpc(request: Any, *, metadata: Any = (), timeout: float | None = None) -> Any:
            self.calls.append(Call(name, request, tuple(metadata)))
            if name not in self.answers:
                raise AssertionError(f"unexpected RPC {name}")
            answer = self.answers[name]
            if isinstance(answer, BaseException):
                raise answer
            return answer(request) if callable(answer) else answer

        return rpc

    def called(self, name: str) -> list[Call]:
        return [c for c in self.calls if c.method == name]

    def business_calls(self) -> list[Call]:
        """Calls other than the access check every authenticated request makes."""
        return [c for c in self.calls if c.method != "GetAccess"]


class FakeHandle:
    def __init__(self, temporal: FakeTemporal, workflow_id: str) -> None:
        self.temporal = temporal
        self.workflow_id = workflow_id

    async def execute_update(self, update: str, arg: Any, *, result_type: Any = None) -> Any:
        self.temporal.updates.append((self.workflow_id, update, arg))
        if self.temporal.update_error is not None:
            raise self.temporal.update_error
        return self.temporal.update_result


@dataclass
class FakeTemporal:
    updates: list[tuple[str, str, Any]] = field(default_factory=list)
    update_error: BaseException | None = None
    # An answer's result as a worker before `TaskAnswerResult.task` gives it (no task).
    update_result: Any = field(default_factory=lambda: TaskAnswerResult("", "", ""))

    def get_workflow_handle(self, workflow_id: str) -> FakeHandle:
        return FakeHandle(self, workflow_id)


@dataclass
class FakeProcesses:
    started: list[dict[str, Any]] = field(default_factory=list)
    error: Exception | None = None
    running: list[dict[str, Any]] = field(default_factory=list)

    async def start_process(self, client: Any, **kwargs: Any) -> str:
        if self.error is not None:
            raise self.error
        self.started.append(kwargs)
        return f"deal-{kwargs['deal_id']}/{kwargs['process'].replace('_', '-')}/1"

    async def start_process_once(self, client: Any, **kwargs: Any) -> StartResult:
        return StartResult(await self.start_process(client, **kwargs), started=True)

    async def start_spend_process(self, client: Any, **kwargs: Any) -> str:
        self.started.append(kwargs)
        return f"deal-{kwargs['deal_id']}/{kwargs['kind'].replace('_', '-')}/1"

    async def list_processes(self, client: Any, deal_id: str) -> list[dict[str, Any]]:
        return self.running


@dataclass
class World:
    app: FastAPI
    http: httpx.AsyncClient
    deals: FakeStub
    notifications: FakeStub
    temporal: FakeTemporal
    processes: FakeProcesses
    probes: dict[str, Any]
    settings: GatewaySettings

    admins: set[int] = field(default_factory=set)

    def token(self, user_id: int = USER_ID, roles: frozenset[str] = frozenset()) -> str:
        return issue_token(
            Principal(user_id, roles, session_id=f"s{user_id}"),
            secret=SECRET,
            minutes=self.settings.access_token_minutes,
        )

    def auth(self, user_id: int = USER_ID, *, admin: bool = False) -> dict[str, str]:
        if admin:
            self.admins.add(user_id)
        roles = frozenset({"admin"}) if admin else frozenset({"manager"})
        return {"Authorization": f"Bearer {self.token(user_id, roles)}"}

    def access(self, request: Any) -> Any:
        """What the deals service would answer to GetAccess: admins have every permission,
        others a manager's."""
        admin = int(request.user_id) in self.admins
        permissions = (
            [str(p) for p in Permission]
            if admin
            else ["deals.create", "deals.edit", "deals.move", "files.upload"]
        )
        return access_pb2.Access(
            user_id=request.user_id,
            roles=["admin"] if admin else ["manager"],
            sees_everyone=admin,
            permissions=permissions,
        )


@pytest.fixture
def settings() -> GatewaySettings:
    return GatewaySettings(jwt_secret=SECRET, max_body_bytes=4096, retry_after_seconds=7)


@pytest.fixture
async def world(settings: GatewaySettings) -> AsyncIterator[World]:
    deals, notifications, crm = FakeStub(), FakeStub(), FakeStub()
    temporal, processes = FakeTemporal(), FakeProcesses()
    # A deal's card lists its parties: none unless a test says otherwise.
    crm.answers["GetDealParties"] = lambda r: crm_pb2.DealParties(deal_id=r.deal_id)

    async def ok(timeout: float) -> None:
        return None

    probes: dict[str, Any] = dict.fromkeys(("deals", "notifications", "temporal"), ok)
    clients = Clients(
        deals=deals,
        notifications=notifications,
        crm=crm,
        temporal=TemporalConnection(temporal),  # type: ignore[arg-type]
        probes=probes,
    )
    app = create_app(settings, clients=clients, processes_api=processes)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        world = World(app, http, deals, notifications, temporal, processes, probes, settings)
        deals.answers["GetAccess"] = world.access
        yield world


def deal_msg(**overrides: Any) -> Any:
    values: dict[str, Any] = {
        "id": "42",
        "pipeline_id": "3",
        "stage_id": "11",
        "title": "Cement for Alfa",
        "responsible_id": str(USER_ID),
        "amount": "1500.50",
        "currency": "RUB",
        "version": 3,
        "stage_semantic": "in_progress",
    }
    values.update(overrides)
    return deals_pb2.Deal(**values)
