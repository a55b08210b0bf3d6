"""The ends of the automation runs this worker process started and runs itself, for the
triggers (workflows/triggers.py) to wait on: a run with nothing to wait for is one eager
workflow task whose last local activity records the run's end (workflows/automation.py),
so the triggers can hand over the next event only once it is done. That keeps the rules'
runs one at a time per consumer, behind the moves and answers people wait for, instead of
a backlog of workflow tasks competing with them (tests/bench/README.md, B5). Plain asyncio,
no I/O.

The automation activities call `ended` when they record a run's final status; a run whose
workflow task went to another worker, or whose action is retried, is not waited for
longer than the triggers' bound."""

from __future__ import annotations

import asyncio


class RunEnds:
    """Futures by run (workflow) id, resolved when the run records its end."""

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future[None]] = {}

    def expect(self, run_id: str) -> None:
        """Be told of `run_id`'s end (before starting it: an eager run may end before
        its start returns)."""
        if run_id not in self._waiting:
            self._waiting[run_id] = asyncio.get_running_loop().create_future()

    def ended(self, run_id: str) -> None:
        future = self._waiting.get(run_id)
        if future is not None and not future.done():
            future.set_result(None)

    def forget(self, run_id: str) -> None:
        self._waiting.pop(run_id, None)

    async def wait(self, run_id: str, timeout: float) -> bool:
        """Whether `run_id` ended within `timeout` seconds (forgotten either way)."""
        future = self._waiting.get(run_id)
        try:
            if future is None:
                return False
            await asyncio.wait_for(asyncio.shield(future), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self.forget(run_id)

    def __len__(self) -> int:
        return len(self._waiting)
