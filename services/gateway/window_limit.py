"""A per-key rate limit: at most `limit` calls within a sliding `window` of seconds. Kept
in the gateway process (each replica counts its own calls), with an injected clock."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class WindowLimiter:
    def __init__(
        self, limit: int, *, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._calls: dict[str, deque[float]] = {}

    def take(self, key: str) -> float | None:
        """None when the call may go ahead (and it is counted); else the seconds until it
        may."""
        now = self._clock()
        calls = self._calls.get(key)
        if calls is None:
            if len(self._calls) > 10_000:  # forget idle keys rather than grow without end
                self._calls = {
                    k: v for k, v in self._calls.items() if v and v[-1] > now - self._window
                }
            calls = self._calls[key] = deque()
        while calls and calls[0] <= now - self._window:
            calls.popleft()
        if len(calls) >= self._limit:
            return max(0.0, calls[0] + self._window - now)
        calls.append(now)
        return None
