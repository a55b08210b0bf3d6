"""The run ends the triggers wait on (workflows/run_ends.py)."""

from __future__ import annotations

import asyncio

from workflows.run_ends import RunEnds


async def test_a_run_that_ended_before_the_wait_is_not_waited_for() -> None:
    ends = RunEnds()
    ends.expect("r1")
    ends.ended("r1")  # an eager run may end before its start returns
    assert await ends.wait("r1", timeout=0.01)
    assert len(ends) == 0


async def test_a_wait_ends_when_the_run_records_its_end() -> None:
    ends = RunEnds()
    ends.expect("r1")
    waiting = asyncio.create_task(ends.wait("r1", timeout=5))
    await asyncio.sleep(0)
    ends.ended("r2")  # another run's end
    assert not waiting.done()
    ends.ended("r1")
    assert await waiting
    assert len(ends) == 0


async def test_a_run_that_does_not_end_in_time_is_forgotten() -> None:
    ends = RunEnds()
    ends.expect("r1")
    assert not await ends.wait("r1", timeout=0.01)
    assert len(ends) == 0
    ends.ended("r1")  # late: nothing waits for it any more


async def test_an_unexpected_run_is_not_waited_for() -> None:
    ends = RunEnds()
    ends.ended("r1")
    assert not await ends.wait("r1", timeout=0.01)
    assert len(ends) == 0
