"""Dependencies of the routes, as `Annotated` aliases: the caller, the service stubs bound
to the caller, the Temporal client, and the process starter.

Every dependency is `async def`: FastAPI runs a plain `def` dependency in its thread pool,
which cost several thread hops per request (seen in the B1 profile, tests/bench/README.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Annotated, Any, Protocol, cast

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from temporalio.client import Client

from services.common.grpc_client import call
from services.gateway.auth import Principal, decode_token
from services.gateway.clients import Clients
from services.gateway.problems import Problem, unauthenticated
from services.gateway.settings import GatewaySettings
from workflows import processes as process_registry

TOKEN_URL = "/api/v1/auth/token"
_bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


class ProcessApi(Protocol):
    """What the gateway needs of workflows/processes.py (a fake stands in for it in tests)."""

    async def start_process(
        self,
        client: Client,
        *,
        process: str,
        params: Mapping[str, Any],
        initiator_id: str,
        deal_id: str,
        pipeline_id: str,
        task_queue: str,
    ) -> str: ...

    async def list_processes(
        self, client: Client, deal_id: str
    ) -> Sequence[Mapping[str, object]]: ...


class BoundStub:
    """A service stub whose methods call on behalf of one user with the request timeout:
    `await deals.GetDeal(request)`; status codes come back as domain errors."""

    def __init__(self, stub: Any, *, actor: int | None, timeout: float) -> None:
        self._stub = stub
        self._actor = actor
        self._timeout = timeout

    def __getattr__(self, name: str) -> Callable[[Any], Awaitable[Any]]:
        method = getattr(self._stub, name)

        async def invoke(request: Any) -> Any:
            return await call(method, request, actor=self._actor, timeout=self._timeout)

        return invoke


async def get_settings(request: Request) -> GatewaySettings:
    return cast(GatewaySettings, request.app.state.settings)


async def get_clients(request: Request) -> Clients:
    return cast(Clients, request.app.state.clients)


Settings = Annotated[GatewaySettings, Depends(get_settings)]
AppClients = Annotated[Clients, Depends(get_clients)]


async def current_user(
    settings: Settings, token: Annotated[str | None, Depends(_bearer)]
) -> Principal:
    if not token:
        raise unauthenticated("a bearer token is required")
    return decode_token(token, secret=settings.jwt_secret.get_secret_value())


CurrentUser = Annotated[Principal, Depends(current_user)]


async def admin_user(user: CurrentUser) -> Principal:
    if not user.is_admin:
        raise Problem(403, "only an admin may do this")
    return user


AdminUser = Annotated[Principal, Depends(admin_user)]


async def _deals(user: CurrentUser, clients: AppClients, settings: Settings) -> BoundStub:
    return BoundStub(clients.deals, actor=user.id, timeout=settings.request_timeout_seconds)


async def _deals_anonymous(clients: AppClients, settings: Settings) -> BoundStub:
    return BoundStub(clients.deals, actor=None, timeout=settings.request_timeout_seconds)


async def _notifications(user: CurrentUser, clients: AppClients, settings: Settings) -> BoundStub:
    return BoundStub(clients.notifications, actor=user.id, timeout=settings.request_timeout_seconds)


async def _temporal(clients: AppClients) -> Client:
    return clients.temporal.get()


async def _processes(request: Request) -> ProcessApi:
    api: ProcessApi | None = request.app.state.processes
    return process_registry if api is None else api


Deals = Annotated[BoundStub, Depends(_deals)]
DealsAnonymous = Annotated[BoundStub, Depends(_deals_anonymous)]
Notifications = Annotated[BoundStub, Depends(_notifications)]
TemporalClient = Annotated[Client, Depends(_temporal)]
Processes = Annotated[ProcessApi, Depends(_processes)]
