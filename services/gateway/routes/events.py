"""Live events: `GET /api/v1/events`, server-sent events of what the caller may see (their
deals' changes, their tasks, chat messages of deals they see, their notifications), under
the visibility of the lists (services/gateway/live/visibility.py).

Each event is `id: <position>`, `event: <type>` and `data: <the event envelope as JSON>`.
The stream opens with an `event: ready` carrying the current position, so a client that
reconnects with `Last-Event-ID` gets everything it missed that the gateway still keeps
(`event: reset` when it missed more: reload, then follow). A comment line is sent after
`events_heartbeat_seconds` without an event. The caller's credential and visibility are
checked again every `events_access_seconds`: a deactivated user, an ended session or an
expired access token ends the stream (`event: end`), and a narrowed role stops the
events it no longer sees. Left out of the OpenAPI document: a stream is not a
request-response operation, and the sweeps that call every operation would wait on it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, cast

from dealflow.deals.v1 import deals_pb2
from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from services.common.errors import DomainError, NotFound
from services.common.grpc_client import call
from services.gateway.auth import Principal
from services.gateway.clients import Clients
from services.gateway.deps import AppClients, CurrentUser, Settings, authenticate
from services.gateway.live.hub import FetchDeal, Hub, LiveEvent, Position
from services.gateway.live.visibility import DealRef, sees
from services.gateway.problems import Problem
from services.gateway.routes import API_PREFIX
from services.gateway.settings import GatewaySettings

router = APIRouter(prefix=API_PREFIX + "/events", tags=["events"])


def frame(event: str, data: object, event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, default=str)}\n\n"


def live_frame(e: LiveEvent) -> str:
    body = json.loads(e.envelope.to_json())
    return frame(e.envelope.type, body, str(e.position))


def deal_fetcher(clients: Clients, timeout: float) -> FetchDeal:
    async def fetch(deal_id: int) -> DealRef | None:
        request = deals_pb2.GetDealRequest(id=str(deal_id))
        try:
            deal = await call(clients.deals.GetDeal, request, timeout=timeout)
        except NotFound:
            return None
        return DealRef(int(deal.pipeline_id), int(deal.responsible_id))

    return fetch


@router.get("", include_in_schema=False)
async def events(
    request: Request,
    user: CurrentUser,
    settings: Settings,
    clients: AppClients,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """Server-sent events of what the caller may see."""
    hub = cast(Hub | None, getattr(request.app.state, "hub", None))
    if hub is None or not hub.ready.is_set():
        raise Problem(503, "live events are not available yet", headers={"Retry-After": "5"})
    since = Position.parse(last_event_id)
    token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    return StreamingResponse(
        _stream(hub, since, user, request, settings, clients, token),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _stream(
    hub: Hub,
    since: Position | None,
    user: Principal,
    request: Request,
    settings: GatewaySettings,
    clients: Clients,
    token: str,
) -> AsyncIterator[str]:
    listener, missed = hub.listen(since)
    try:
        now = str(hub.position)
        yield "retry: 3000\n\n" + frame("ready", {"position": now}, str(since or now))
        if since is not None and _missed_too_much(hub, since):
            yield frame("reset", {"reason": "events after Last-Event-ID are no longer kept"})
        for e in missed:
            if sees(user, e.envelope, hub.deal):
                yield live_frame(e)
        clock = time.monotonic
        last_sent = clock()
        check_due = clock() + settings.events_access_seconds
        while True:
            wait = min(
                settings.events_heartbeat_seconds - (clock() - last_sent), check_due - clock()
            )
            event: LiveEvent | None
            try:
                event = await asyncio.wait_for(listener.queue.get(), timeout=max(wait, 0.0))
            except TimeoutError:
                event = None
            if listener.overflowed:
                yield frame("reset", {"reason": "the client read too slowly"})
                return
            if clock() >= check_due:
                fresh = await _recheck(request, settings, clients, token)
                if fresh is None:
                    yield frame("end", {"reason": "the credential or the user is no longer valid"})
                    return
                user, check_due = fresh, clock() + settings.events_access_seconds
            if event is not None and sees(user, event.envelope, hub.deal):
                yield live_frame(event)
                last_sent = clock()
            elif clock() - last_sent >= settings.events_heartbeat_seconds:
                yield ": heartbeat\n\n"
                last_sent = clock()
    finally:
        hub.leave(listener)


def _missed_too_much(hub: Hub, since: Position) -> bool:
    kept = {s: hub.kept_from(s) for s in ("DEALS", "NOTIFICATIONS")}
    return any(
        first is not None and not since.has(stream, first - 1) for stream, first in kept.items()
    )


async def _recheck(
    request: Request, settings: GatewaySettings, clients: Clients, token: str
) -> Principal | None:
    """The caller as the deals service knows them now; None when they may not go on."""
    try:
        return await authenticate(request, settings, clients, token)
    except (Problem, DomainError):
        return None
