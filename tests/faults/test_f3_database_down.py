"""F3: PostgreSQL stops for 10 s under write load. The gateway answers 503 problem+json
with Retry-After (never a hang past its timeout, never a bare 500), recovers without a
restart, and every write that was answered 2xx is there afterwards."""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import dataclass

import httpx
import pytest

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually
from tests.faults.conftest import Org, key
from tests.faults.processes import sql

OUTAGE_SECONDS = 10
GATEWAY_TIMEOUT = 10  # GATEWAY_REQUEST_TIMEOUT_SECONDS
WRITERS = 6


@dataclass
class Write:
    title: str
    status: int | str
    seconds: float
    started: float
    response: httpx.Response | None = None


async def write_load(org: Org, stop: asyncio.Event, writes: list[Write], writer: int) -> None:
    i = 0
    while not stop.is_set():
        title = f"F3 {writer}-{i}"
        started = time.monotonic()
        try:
            resp = await org.manager.post(
                "/deals",
                json={"pipeline_id": org.pipeline_id, "title": title},
                headers=key(),
                timeout=GATEWAY_TIMEOUT + 10,
            )
            writes.append(Write(title, resp.status_code, time.monotonic() - started, started, resp))
        except httpx.TimeoutException:
            writes.append(Write(title, "hang", time.monotonic() - started, started))
        except httpx.TransportError as exc:
            writes.append(Write(title, type(exc).__name__, time.monotonic() - started, started))
        i += 1
        await asyncio.sleep(0.02)


@pytest.mark.timeout(240)
async def test_f3_postgres_stopped_for_10_s_under_write_load(stack: Stack, org: Org) -> None:
    stop, writes = asyncio.Event(), list[Write]()
    writers = [asyncio.create_task(write_load(org, stop, writes, w)) for w in range(WRITERS)]
    await eventually(lambda: _ok_count(writes, 0.0, at_least=20), what="writes before the stop")

    await asyncio.to_thread(stack.kill, "postgres", signal.SIGTERM)
    stopped_at = time.monotonic()
    await eventually(lambda: _refused_after(writes, stopped_at), what="a 503 while it is down")
    await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped_at)))
    await asyncio.to_thread(stack.start_again, "postgres")
    back_at = time.monotonic()
    await eventually(
        lambda: _ok_count(writes, back_at, at_least=20), timeout=60, what="writes succeeding again"
    )
    recovery = min(w.started for w in writes if w.started >= back_at and w.status == 201) - back_at
    stop.set()
    await asyncio.gather(*writers)

    during = [w for w in writes if stopped_at <= w.started < back_at]
    refused = sum(w.status == 503 for w in writes)
    print(
        f"\nF3: {len(writes)} writes, {len(during)} during the outage, {refused} answered 503, "
        f"first 201 {recovery:.1f}s after the restart"
    )
    assert {w.status for w in writes} <= {201, 503}, counts(writes)
    for w in writes:
        assert w.seconds < GATEWAY_TIMEOUT + 3, f"{w.title} took {w.seconds:.1f}s"
        assert w.response is not None
        if w.status == 503:
            assert w.response.headers["content-type"] == "application/problem+json"
            assert int(w.response.headers["retry-after"]) > 0
    created = {w.title: w.response.json()["id"] for w in writes if w.status == 201 and w.response}
    for title, deal_id in created.items():
        got = await org.manager.get(f"/deals/{deal_id}")
        assert got.status_code == 200 and got.json()["title"] == title
    rows = sql(
        stack,
        "SELECT title FROM deals.deals WHERE pipeline_id = %s AND title LIKE 'F3 %%'",
        org.pipeline_id,
    )
    assert set(created) <= {r[0] for r in rows}

    async def outbox_drained() -> bool:
        pending = sql(stack, "SELECT count(*) FROM deals.outbox WHERE status = 'pending'")
        return pending[0][0] == 0

    await eventually(outbox_drained, timeout=60, what="the deals outbox to drain")


def counts(writes: list[Write]) -> dict[int | str, int]:
    counts: dict[int | str, int] = {}
    for w in writes:
        counts[w.status] = counts.get(w.status, 0) + 1
    return counts


async def _ok_count(writes: list[Write], since: float, *, at_least: int) -> bool:
    return sum(w.status == 201 and w.started >= since for w in writes) >= at_least


async def _refused_after(writes: list[Write], since: float) -> bool:
    return any(w.status == 503 and w.started >= since for w in writes)
