"""Per-user limits on expensive calls (reports, searches, exports): a token bucket per user
in each gateway process. A bucket holds `burst` calls and refills at `per_minute`; an
empty one answers 429 with `Retry-After` (the seconds until a call is allowed again).

In-process on purpose: it protects this replica's services from one user's loop, needs no
shared store, and N replicas allow at most N times the figure (configure accordingly)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request

from services.gateway.deps import CurrentUser
from services.gateway.problems import Problem


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    def __init__(
        self, *, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, who: str) -> float:
        """0 when `who` may call now (and the call is counted), else seconds to wait."""
        if self.burst <= 0:  # limits off
            return 0.0
        now = self._clock()
        bucket = self._buckets.get(who)
        if bucket is None:  # a first call finds a full bucket: no "never" compared with time
            if len(self._buckets) > 100_000:
                self._buckets.clear()
            bucket = self._buckets[who] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate if self.rate > 0 else 60.0


def limiter(request: Request) -> RateLimiter:
    return cast(RateLimiter, request.app.state.expensive_calls)


def check_expensive(who: int, limits: RateLimiter) -> None:
    wait = limits.take(str(who))
    if wait > 0:
        raise Problem(
            429,
            "too many expensive calls (reports, searches, exports); retry later",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )


async def expensive(user: CurrentUser, request: Request) -> None:
    """A route dependency: counts the call against the caller's bucket."""
    check_expensive(user.id, limiter(request))


Expensive = Annotated[None, Depends(expensive)]


async def searching(user: CurrentUser, request: Request) -> None:
    """A list route's dependency: a full-text search (`q=`) is an expensive call."""
    if request.query_params.get("q"):
        check_expensive(user.id, limiter(request))
