"""Dependencies of the routes, as `Annotated` aliases: the caller, the service stubs bound
to the caller, the Temporal client, and the process starter.

Every dependency is `async def`: FastAPI runs a plain `def` dependency in its thread pool,
which cost several thread hops per request (seen in the B1 profile, tests/bench/README.md).

Dependencies depend on few others: FastAPI walks a dependency's whole sub-tree again
wherever it is taken, cached or not, at ≈ 10–20 µs a node. So the settings and clients
are read from the app's state by plain functions (`settings_of`, `clients_of`; `Settings`
and `AppClients` stay for routes), and `current_user` authenticates by calling
`authenticate` itself: a route taking `CurrentUser` and `Deals` solves 6 nodes (14 when
each of them took `Settings`, `AppClients` and `Authenticated`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Annotated, Any, Protocol, cast

from dealflow.deals.v1 import access_pb2
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from temporalio.client import Client

from services.common.access_client import access_from_pb
from services.common.blobs import BlobStore
from services.common.errors import Unauthenticated
from services.common.grpc_client import call
from services.gateway.auth import (
    API_TOKEN_PREFIX,
    READ_METHODS,
    Claims,
    Principal,
    PrincipalCache,
    decode_token,
)
from services.gateway.clients import Clients
from services.gateway.problems import Problem, unauthenticated
from services.gateway.settings import GatewaySettings
from services.gateway.task_owners import TaskOwners
from workflows import api as process_registry
from workflows.api import StartResult

TOKEN_URL = "/api/v1/auth/token"
_bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


class ProcessApi(Protocol):
    """What the gateway needs of workflows/api.py (a fake stands in for it in tests)."""

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

    async def start_process_once(
        self,
        client: Client,
        *,
        process: str,
        params: Mapping[str, Any],
        initiator_id: str,
        deal_id: str,
        pipeline_id: str,
        task_queue: str,
        start_key: str,
    ) -> StartResult: ...

    async def start_spend_process(
        self,
        client: Client,
        *,
        kind: str,
        spend_id: str,
        initiator_id: str,
        deal_id: str | None,
        pipeline_id: str | None,
        task_queue: str,
        start_key: str,
    ) -> StartResult: ...

    async def list_processes(
        self, client: Client, deal_id: str
    ) -> Sequence[Mapping[str, object]]: ...

    async def start_lead_process(
        self,
        client: Client,
        *,
        process: str,
        params: Mapping[str, Any],
        initiator_id: str,
        lead_id: str,
        pipeline_id: str,
        task_queue: str,
        start_key: str,
    ) -> StartResult: ...

    async def list_lead_processes(
        self, client: Client, lead_id: str
    ) -> Sequence[Mapping[str, object]]: ...

    async def get_lead_run(
        self, client: Client, lead_id: str, workflow_id: str
    ) -> Mapping[str, object] | None: ...

    async def get_run(
        self, client: Client, deal_id: str, workflow_id: str
    ) -> Mapping[str, object] | None: ...


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


def settings_of(request: Request) -> GatewaySettings:
    return cast(GatewaySettings, request.app.state.settings)


def clients_of(request: Request) -> Clients:
    return cast(Clients, request.app.state.clients)


async def get_settings(request: Request) -> GatewaySettings:
    return settings_of(request)


async def get_clients(request: Request) -> Clients:
    return clients_of(request)


Settings = Annotated[GatewaySettings, Depends(get_settings)]
AppClients = Annotated[Clients, Depends(get_clients)]
Bearer = Annotated[str | None, Depends(_bearer)]


async def authenticate(
    request: Request, settings: GatewaySettings, clients: Clients, token: str | None
) -> Principal:
    """The caller of a bearer access token or API token, with their current rights."""
    if not token:
        raise unauthenticated("a bearer token is required")
    cache = principal_cache(request)
    timeout = settings.request_timeout_seconds
    if token.startswith(API_TOKEN_PREFIX):
        return await cache.get(token, lambda: _api_token_principal(clients, token, timeout))
    claims = decode_token(token, secret=settings.jwt_secret.get_secret_value())
    return await cache.get(token, lambda: _session_principal(clients, claims, timeout))


async def _authenticated(request: Request, token: Bearer) -> Principal:
    return await authenticate(request, settings_of(request), clients_of(request), token)


Authenticated = Annotated[Principal, Depends(_authenticated)]


async def current_user(request: Request, token: Bearer) -> Principal:
    """The caller; an API token without the write scope may only read, and one with only
    the leads scope only create leads (routes/lead_capture.py)."""
    principal = await _authenticated(request, token)
    if not principal.scopes & {"read", "write"}:
        raise Problem(403, "this API token may only create leads (POST /api/v1/lead-capture)")
    if request.method not in READ_METHODS and "write" not in principal.scopes:
        raise Problem(403, "this API token may only read")
    return principal


def principal_cache(request: Request) -> PrincipalCache:
    return cast(PrincipalCache, request.app.state.principals)


async def _task_owners(request: Request) -> TaskOwners:
    return cast(TaskOwners, request.app.state.task_owners)


async def _session_principal(clients: Clients, claims: Claims, timeout: float) -> Principal:
    request = access_pb2.GetAccessRequest(user_id=str(claims.user_id), session_id=claims.session_id)
    try:
        access = await call(clients.deals.GetAccess, request, timeout=timeout)
    except Unauthenticated as exc:
        raise unauthenticated(exc.message) from None
    return Principal(
        id=claims.user_id,
        roles=frozenset(access.roles),
        permissions=frozenset(access.permissions),
        session_id=claims.session_id,
        scope=access_from_pb(access).scope,
        deal_pipelines=access_from_pb(access).deal_pipelines,
    )


async def _api_token_principal(clients: Clients, token: str, timeout: float) -> Principal:
    try:
        found = await call(
            clients.deals.VerifyApiToken,
            access_pb2.VerifyApiTokenRequest(token=token),
            timeout=timeout,
        )
        access = await call(
            clients.deals.GetAccess,
            access_pb2.GetAccessRequest(user_id=found.user_id),
            timeout=timeout,
        )
    except Unauthenticated as exc:
        raise unauthenticated(exc.message) from None
    return Principal(
        id=int(found.user_id),
        roles=frozenset(access.roles),
        permissions=frozenset(access.permissions),
        scopes=frozenset(found.scopes),
        scope=access_from_pb(access).scope,
        deal_pipelines=access_from_pb(access).deal_pipelines,
    )


CurrentUser = Annotated[Principal, Depends(current_user)]


async def admin_user(user: CurrentUser) -> Principal:
    if not user.is_admin:
        raise Problem(403, "only an admin may do this")
    return user


AdminUser = Annotated[Principal, Depends(admin_user)]


def _bound(request: Request, stub: Any, actor: int | None) -> BoundStub:
    return BoundStub(stub, actor=actor, timeout=settings_of(request).request_timeout_seconds)


def _stub_as_user(client: str) -> Callable[[Request, Principal], Awaitable[BoundStub]]:
    """The dependency giving the `client` stub of `Clients`, bound to the caller."""

    async def bound(request: Request, user: CurrentUser) -> BoundStub:
        return _bound(request, getattr(clients_of(request), client), user.id)

    return bound


async def _deals_anonymous(request: Request) -> BoundStub:
    return _bound(request, clients_of(request).deals, None)


_deals = _stub_as_user("deals")
_notifications = _stub_as_user("notifications")
_approvals = _stub_as_user("approvals")
_files = _stub_as_user("files")
_crm = _stub_as_user("crm")
_automation = _stub_as_user("automation")
_products = _stub_as_user("products")
_activities = _stub_as_user("activities")
_reports = _stub_as_user("reports")
_finance = _stub_as_user("finance")


async def _blobs(request: Request) -> BlobStore:
    return cast(BlobStore, clients_of(request).blobs)


async def _temporal(request: Request) -> Client:
    return clients_of(request).temporal.get()


async def _processes(request: Request) -> ProcessApi:
    api: ProcessApi | None = request.app.state.processes
    return process_registry if api is None else api


Deals = Annotated[BoundStub, Depends(_deals)]
DealsAnonymous = Annotated[BoundStub, Depends(_deals_anonymous)]
Notifications = Annotated[BoundStub, Depends(_notifications)]
Approvals = Annotated[BoundStub, Depends(_approvals)]
Files = Annotated[BoundStub, Depends(_files)]
Crm = Annotated[BoundStub, Depends(_crm)]
Automation = Annotated[BoundStub, Depends(_automation)]
Products = Annotated[BoundStub, Depends(_products)]
Activities = Annotated[BoundStub, Depends(_activities)]
Reports = Annotated[BoundStub, Depends(_reports)]
Blobs = Annotated[BlobStore, Depends(_blobs)]
Finance = Annotated[BoundStub, Depends(_finance)]
TemporalClient = Annotated[Client, Depends(_temporal)]
Processes = Annotated[ProcessApi, Depends(_processes)]
KnownTasks = Annotated[TaskOwners, Depends(_task_owners)]
