"""Idempotency-Key on POST (DESIGN rule 6): a retry gets the first answer and changes nothing.

An ASGI middleware, because it has to see the raw body (to tell "the same request again"
from "another request under the same key") and the whole answer (to keep it). For a POST
under /api/v1 carrying the header, from an authenticated caller:

- the first request with a key runs; its answer (2xx or 4xx, errors included) is kept for
  `ttl` (48 h by default) and replayed to every retry with the same body, marked
  `Idempotent-Replayed: true`;
- the same key with another body (or query) answers 422;
- a retry while the first is still running waits for its answer (two concurrent requests
  with one key produce one result); past the request timeout it answers 409;
- a 5xx is not kept: nothing was decided, so a retry runs again; a store that cannot be
  reached answers 503 with Retry-After and runs nothing.

The answer is stored before it is sent, so a client that got an answer always gets the
same one again. The one gap: a gateway that dies between the service's commit and storing
the answer leaves the key pending; once its lease runs out a retry runs the request again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.errors import FieldProblem
from services.common.faults import fault_point
from services.gateway.auth import API_TOKEN_PREFIX, decode_token
from services.gateway.idempotency_store import (
    Busy,
    IdempotencyStore,
    KeyScope,
    Mismatch,
    Owned,
    PostgresStore,
    Replay,
    StoredResponse,
    StoreUnavailable,
)
from services.gateway.problems import Problem, problem_response
from services.gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_PREFIX = "/api/v1/"
_EXEMPT = {"/api/v1/auth/token"}  # exchanging a password creates nothing
# Headers that describe this transmission, not the answer.
_NOT_KEPT = {b"date", b"server", b"content-length"}
_DESCRIPTION = (
    "Makes the request safe to retry: a retry with the same key and body within 24 h gets "
    "the first answer (marked `Idempotent-Replayed: true`) and creates nothing new; the same "
    "key with another body answers 422; while the first request runs, a retry waits for its "
    "answer. Keys are per user; use a fresh UUID per operation."
)


def applies(method: str, path: str) -> bool:
    return method == "POST" and path.startswith(_PREFIX) and path not in _EXEMPT


def fingerprint(query: bytes, body: bytes) -> str:
    """The request's identity under a key; JSON bodies compare by value, not by bytes."""
    try:
        canonical = json.dumps(
            json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    return hashlib.sha256(query + b"\0" + canonical).hexdigest()


class IdempotencyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        store: IdempotencyStore,
        secret: str,
        wait_seconds: float,
        lease: timedelta,
        retry_after_seconds: int,
    ) -> None:
        self.app = app
        self.store = store
        self.secret = secret
        self.wait_seconds = wait_seconds
        self.lease = lease
        self.retry_after = str(retry_after_seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not applies(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        raw_key = headers.get(HEADER.lower().encode())
        principal = None if raw_key is None else self._principal(headers.get(b"authorization", b""))
        if raw_key is None or principal is None:  # no key, or the route answers 401 itself
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1")
        if not _KEY.match(key):
            problem = FieldProblem(HEADER, "must be 1 to 255 visible ASCII characters")
            await problem_response(422, "bad Idempotency-Key", errors=[problem])(
                scope, receive, send
            )
            return
        body, messages = await _read_body(receive)
        where = KeyScope(principal, "POST", scope["path"], key)
        print_ = fingerprint(scope.get("query_string", b""), body)
        try:
            await self._handle(scope, where, print_, messages, receive, send)
        except StoreUnavailable as exc:
            log.warning("%s", exc)
            await problem_response(
                503, "retry later: " + str(exc), headers={"Retry-After": self.retry_after}
            )(scope, receive, send)

    def _principal(self, authorization: bytes) -> str | None:
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        token = token.strip()
        if token.startswith(API_TOKEN_PREFIX):  # an integration's key: scoped to that token
            return "api-token:" + hashlib.sha256(token.encode()).hexdigest()
        try:
            return f"user:{decode_token(token, secret=self.secret).user_id}"
        except Problem:
            return None

    async def _handle(
        self,
        scope: Scope,
        where: KeyScope,
        print_: str,
        messages: list[Message],
        receive: Receive,
        send: Send,
    ) -> None:
        deadline = time.monotonic() + self.wait_seconds
        pause = 0.05
        while True:
            claim = await self.store.claim(where, print_, lease=self.lease)
            match claim:
                case Owned():
                    await self._run(scope, where, print_, messages, receive, send)
                    return
                case Replay(response=response):
                    await _send(send, response, replayed=True)
                    return
                case Mismatch():
                    problem = FieldProblem(
                        HEADER, "was already used for a request with another body"
                    )
                    await _send_response(
                        send, problem_response(422, str(problem.message), errors=[problem])
                    )
                    return
                case Busy() if time.monotonic() < deadline:
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, 0.5)
                case Busy():
                    await _send_response(
                        send,
                        problem_response(
                            409,
                            "a request with this Idempotency-Key is still in progress",
                            headers={"Retry-After": self.retry_after},
                        ),
                    )
                    return

    async def _run(
        self,
        scope: Scope,
        where: KeyScope,
        print_: str,
        messages: list[Message],
        receive: Receive,
        send: Send,
    ) -> None:
        captured: list[Message] = []

        async def replay_body() -> Message:
            return messages.pop(0) if messages else await receive()

        async def capture(message: Message) -> None:
            captured.append(message)

        # The services that create keep this key with the record, so a retry after the
        # gateway died between their commit and `_finish` gets the record already made.
        scope.setdefault("state", {})[STATE_KEY] = service_key(where)
        try:
            await self.app(scope, replay_body, capture)
        except BaseException:
            await self._release(where, print_)
            raise
        response = _collect(captured)
        fault_point("gateway.before_keeping_the_answer")
        if response.status >= 500:
            await self._release(where, print_)
        else:
            await self._finish(where, print_, response)
        await _send(send, response, replayed=False)

    async def _finish(self, where: KeyScope, print_: str, response: StoredResponse) -> None:
        try:
            await self.store.finish(where, print_, response)
        except StoreUnavailable as exc:
            # The change is made; answering an error now would invite a retry that the
            # pending key (until its lease ends) refuses, so answer what happened.
            log.warning("could not keep the answer of %s: %s", where, exc)

    async def _release(self, where: KeyScope, print_: str) -> None:
        try:
            await self.store.release(where, print_)
        except StoreUnavailable as exc:
            log.warning("could not release %s (its lease will): %s", where, exc)


STATE_KEY = "idempotency_key"


def service_key(where: KeyScope) -> str:
    """The key a creating service keeps: one per principal, endpoint and client key (an
    API token's keys stay apart from its user's), short and of visible ASCII."""
    scoped = f"{where.principal}\n{where.method} {where.path}\n{where.key}"
    return hashlib.sha256(scoped.encode()).hexdigest()


async def creation_key(request: Request) -> str:
    """A creating route's dependency: the key to send with its create RPC ("" for none).
    A coroutine, so FastAPI solves it in the event loop, not in a worker thread."""
    return str(getattr(request.state, STATE_KEY, ""))


CreationKey = Annotated[str, Depends(creation_key)]


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole body (BodyLimitMiddleware, outside this one, bounds it) and its messages."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages


def _collect(messages: list[Message]) -> StoredResponse:
    status, headers, body = 500, [], bytearray()
    for message in messages:
        if message["type"] == "http.response.start":
            status = int(message["status"])
            headers = [
                (k.decode("latin-1"), v.decode("latin-1"))
                for k, v in message.get("headers", [])
                if k.lower() not in _NOT_KEPT
            ]
        elif message["type"] == "http.response.body":
            body += message.get("body", b"")
    return StoredResponse(status=status, headers=headers, body=bytes(body))


async def _send(send: Send, response: StoredResponse, *, replayed: bool) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    headers.append((b"content-length", str(len(response.body)).encode()))
    if replayed:
        headers.append((REPLAYED.lower().encode(), b"true"))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


async def _send_response(send: Send, response: Any) -> None:
    await _send(
        send,
        StoredResponse(
            status=response.status_code,
            headers=[
                (k.decode(), v.decode()) for k, v in response.raw_headers if k != b"content-length"
            ],
            body=bytes(response.body),
        ),
        replayed=False,
    )


def install(app: FastAPI, settings: GatewaySettings, store: IdempotencyStore) -> None:
    """Honour Idempotency-Key on the app's POSTs and document it. Call before adding the
    body limit, so this runs inside it (on a bounded body)."""
    app.state.idempotency_store = store
    app.add_middleware(
        IdempotencyMiddleware,
        store=store,
        secret=settings.jwt_secret.get_secret_value(),
        wait_seconds=settings.request_timeout_seconds + 5,
        lease=timedelta(seconds=2 * settings.request_timeout_seconds + 5),
        retry_after_seconds=settings.retry_after_seconds,
    )
    document(app)


def default_store(settings: GatewaySettings) -> IdempotencyStore:
    """The PostgreSQL store (schema `gateway`); the engine connects on first use."""
    return PostgresStore.from_url(
        settings.database_url,
        ttl=timedelta(hours=settings.idempotency_ttl_hours),
        timeout=min(settings.request_timeout_seconds, 5.0),
    )


def document(app: FastAPI) -> None:
    """Every POST it applies to documents the header (and the 409 of a running request)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        for path, operations in schema.get("paths", {}).items():
            post = operations.get("post")
            if post is None or not applies("POST", path):
                continue
            parameters = post.setdefault("parameters", [])
            if any(p.get("name") == HEADER for p in parameters):
                continue
            parameters.append(
                {
                    "name": HEADER,
                    "in": "header",
                    "required": False,
                    "description": _DESCRIPTION,
                    "schema": {"type": "string", "pattern": _KEY.pattern, "maxLength": 255},
                }
            )
            post.setdefault("responses", {}).setdefault(
                "409",
                {
                    "description": "Conflict",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/ProblemModel"}
                        }
                    },
                },
            )
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
