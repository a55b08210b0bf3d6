"""When a failed delivery is tried again: exponential backoff with a cap, and when it is
given up. Plain rules, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Backoff:
    first: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 10

    def next_try(self, attempts: int, *, now: datetime) -> datetime | None:
        """After `attempts` failed tries: when to try again, or None to give up."""
        if attempts >= self.max_attempts:
            return None
        delay: timedelta = min(self.first * (2 ** (attempts - 1)), self.cap)
        return now + delay
