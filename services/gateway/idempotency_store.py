"""Where the gateway keeps Idempotency-Key records: the first answer to a keyed request.

One record per (principal, method, path, key). `claim` either makes the caller the owner
(it runs the request, then `finish`es with the answer or `release`s the key) or tells it
what is there: the stored answer, a different request under the same key, or a request
still running. The PostgreSQL store (schema `gateway`) is the real one; the in-memory one
stands in for it in unit tests.

PostgreSQL rather than a JetStream KV bucket: an answer the client was given must not be
forgotten, and JetStream acknowledges writes before they reach the disk (DESIGN rule 2);
and a keyed write already needs PostgreSQL (the services'), so the store adds no new way
for it to fail.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.db import create_engine
from services.gateway.tables import idempotency_keys

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class KeyScope:
    """A key belongs to one principal and one endpoint: two users never collide."""

    principal: str
    method: str
    path: str
    key: str


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Owned:
    """The caller runs the request and must `finish` or `release` the key."""


@dataclass(frozen=True)
class Replay:
    response: StoredResponse


@dataclass(frozen=True)
class Mismatch:
    """The key was used for a request with another body."""


@dataclass(frozen=True)
class Busy:
    """The first request with this key is still running (its lease has not expired)."""


Claim = Owned | Replay | Mismatch | Busy


class IdempotencyStore(Protocol):
    async def claim(self, scope: KeyScope, fingerprint: str, *, lease: timedelta) -> Claim: ...

    async def finish(self, scope: KeyScope, fingerprint: str, response: StoredResponse) -> None: ...

    async def release(self, scope: KeyScope, fingerprint: str) -> None: ...


class StoreUnavailable(Exception):
    """The store could not be reached: the request is answered 503, nothing runs."""


@dataclass
class _Record:
    fingerprint: str
    created_at: datetime
    locked_until: datetime
    response: StoredResponse | None = None


def _now() -> datetime:
    return datetime.now(UTC)


class MemoryStore:
    """The same rules in a dict, for unit tests and a single-process gateway."""

    def __init__(self, *, ttl: timedelta = timedelta(hours=48)) -> None:
        self.ttl = ttl
        self.records: dict[KeyScope, _Record] = {}
        self.now = _now

    async def claim(self, scope: KeyScope, fingerprint: str, *, lease: timedelta) -> Claim:
        now = self.now()
        record = self.records.get(scope)
        takeover = record is not None and (
            record.created_at < now - self.ttl
            or (
                record.response is None
                and record.locked_until < now
                and record.fingerprint == fingerprint
            )
        )
        if record is None or takeover:
            self.records[scope] = _Record(fingerprint, now, now + lease)
            return Owned()
        return _judge(record.fingerprint, record.response, fingerprint)

    async def finish(self, scope: KeyScope, fingerprint: str, response: StoredResponse) -> None:
        record = self.records.get(scope)
        if record is not None and record.fingerprint == fingerprint:
            self.records[scope] = replace(record, response=response)

    async def release(self, scope: KeyScope, fingerprint: str) -> None:
        record = self.records.get(scope)
        if record is not None and record.response is None and record.fingerprint == fingerprint:
            del self.records[scope]


def _judge(stored: str, response: StoredResponse | None, fingerprint: str) -> Claim:
    if stored != fingerprint:
        return Mismatch()
    return Busy() if response is None else Replay(response)


class PostgresStore:
    """Records in `gateway.idempotency_keys`; expired ones are swept every few minutes.

    The first claim of a process sweeps at once: "never swept" is not a time, so it is not
    compared with the monotonic clock (which starts near zero on a freshly booted machine).
    """

    SWEEP_EVERY = 600.0

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        ttl: timedelta = timedelta(hours=48),
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.ttl = ttl
        self.timeout = timeout
        self._clock = clock
        self._last_sweep: float | None = None

    @classmethod
    def from_url(cls, url: str, *, ttl: timedelta, timeout: float) -> PostgresStore:
        return cls(create_engine(url, pool_size=5), ttl=ttl, timeout=timeout)

    def _where(self, scope: KeyScope) -> sa.ColumnElement[bool]:
        t = idempotency_keys
        return sa.and_(
            t.c.principal == scope.principal,
            t.c.method == scope.method,
            t.c.path == scope.path,
            t.c.key == scope.key,
        )

    async def claim(self, scope: KeyScope, fingerprint: str, *, lease: timedelta) -> Claim:
        return await self._bounded(self._claim(scope, fingerprint, lease))

    async def _claim(self, scope: KeyScope, fingerprint: str, lease: timedelta) -> Claim:
        t = idempotency_keys
        now = _now()
        fresh = {
            "fingerprint": fingerprint,
            "state": "pending",
            "created_at": now,
            "locked_until": now + lease,
            "status": None,
            "headers": None,
            "body": None,
        }
        row_values = insert(t).values(
            principal=scope.principal, method=scope.method, path=scope.path, key=scope.key, **fresh
        )
        # Take the key over when it expired, or when its owner died mid-request (its lease
        # ran out) and this is the same request again.
        stmt = row_values.on_conflict_do_update(
            index_elements=[t.c.principal, t.c.method, t.c.path, t.c.key],
            set_=fresh,
            where=sa.or_(
                t.c.created_at < now - self.ttl,
                sa.and_(
                    t.c.state == "pending",
                    t.c.locked_until < now,
                    t.c.fingerprint == fingerprint,
                ),
            ),
        ).returning(t.c.key)
        async with self.engine.begin() as conn:
            if (await conn.execute(stmt)).first() is not None:
                claim: Claim = Owned()
            else:
                row = (
                    await conn.execute(
                        sa.select(t.c.fingerprint, t.c.status, t.c.headers, t.c.body).where(
                            self._where(scope)
                        )
                    )
                ).first()
                claim = (
                    Busy() if row is None else _judge(row.fingerprint, _response(row), fingerprint)
                )
        await self._maybe_sweep(now)
        return claim

    async def finish(self, scope: KeyScope, fingerprint: str, response: StoredResponse) -> None:
        t = idempotency_keys
        stmt = (
            sa.update(t)
            .where(self._where(scope), t.c.fingerprint == fingerprint)
            .values(
                state="done",
                status=response.status,
                headers=[list(h) for h in response.headers],
                body=response.body,
            )
        )
        await self._bounded(self._execute(stmt))

    async def release(self, scope: KeyScope, fingerprint: str) -> None:
        t = idempotency_keys
        stmt = sa.delete(t).where(
            self._where(scope), t.c.fingerprint == fingerprint, t.c.state == "pending"
        )
        await self._bounded(self._execute(stmt))

    async def _execute(self, stmt: sa.Executable) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(stmt)

    async def _maybe_sweep(self, now: datetime) -> None:
        started = self._clock()
        if self._last_sweep is not None and started - self._last_sweep < self.SWEEP_EVERY:
            return
        self._last_sweep = started
        stmt = sa.delete(idempotency_keys).where(idempotency_keys.c.created_at < now - self.ttl)
        async with self.engine.begin() as conn:
            swept = (await conn.execute(stmt)).rowcount
        if swept:
            log.info("swept %d expired idempotency keys", swept)

    async def _bounded(self, work: Coroutine[Any, Any, T]) -> T:
        """Never hang past `timeout` (a paused server), and say "unavailable" for any
        failure to reach the database."""
        try:
            return await asyncio.wait_for(work, self.timeout)
        except (TimeoutError, OSError, sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            raise StoreUnavailable(f"the idempotency store is unavailable: {exc}") from exc


def _response(row: Any) -> StoredResponse | None:
    if row.status is None:
        return None
    headers = [(str(k), str(v)) for k, v in (row.headers or [])]
    return StoredResponse(status=int(row.status), headers=headers, body=bytes(row.body or b""))
