"""F7: PostgreSQL killed with SIGKILL (no clean shutdown: crash recovery from the WAL on the
next start) under write load through the gateway. Every write answered 201 is there after
the restart, the outbox drains, and the notifications consumer applied each of those
deals' events exactly once."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually
from tests.faults.conftest import Org
from tests.faults.processes import sql
from tests.faults.test_f3_database_down import WRITERS, Write, _ok_count, counts, write_load

DOWN_SECONDS = 5


@pytest.mark.chaos
@pytest.mark.timeout(300)
async def test_f7_postgres_sigkilled_under_write_load(stack: Stack, org: Org) -> None:
    stop, writes = asyncio.Event(), list[Write]()
    writers = [asyncio.create_task(write_load(org, stop, writes, w)) for w in range(WRITERS)]
    await eventually(lambda: _ok_count(writes, 0.0, at_least=20), what="writes before the kill")

    await asyncio.to_thread(stack.kill, "postgres", signal.SIGKILL)
    killed_at = time.monotonic()
    await asyncio.sleep(DOWN_SECONDS)
    await asyncio.to_thread(stack.start_again, "postgres")
    back_at = time.monotonic()
    await eventually(
        lambda: _ok_count(writes, back_at, at_least=20), timeout=90, what="writes succeeding again"
    )
    recovery = min(w.started for w in writes if w.started >= back_at and w.status == 201) - back_at
    stop.set()
    await asyncio.gather(*writers)

    statuses = counts(writes)
    assert set(statuses) <= {201, 503}, statuses
    created = {w.response.json()["id"]: w.title for w in writes if w.status == 201 and w.response}
    rows = dict(
        sql(
            stack,
            "SELECT id, title FROM deals.deals WHERE id = ANY(%s)",
            list(created),
        )
    )
    lost = {i: t for i, t in created.items() if rows.get(i) != t}
    assert not lost, f"{len(lost)} deals answered 201 are gone: {sorted(lost.items())[:5]}"

    drain_started = time.monotonic()

    async def outbox_drained() -> bool:
        pending = sql(stack, "SELECT count(*) FROM deals.outbox WHERE status = 'pending'")
        return pending[0][0] == 0

    await eventually(outbox_drained, timeout=120, what="the deals outbox to drain")
    drained = time.monotonic() - drain_started
    events = [
        str(r[0])
        for r in sql(
            stack,
            "SELECT id FROM deals.outbox WHERE type = 'deals.deal.created' AND subject = ANY(%s)",
            [f"deal/{i}" for i in created],
        )
    ]

    async def applied() -> bool:
        done = sql(
            stack,
            "SELECT count(*) FROM notifications.processed_events "
            "WHERE consumer = 'notifications-deals' AND event_id = ANY(%s::uuid[])",
            events,
        )
        return done[0][0] == len(events)

    await eventually(applied, timeout=120, what="the consumer to apply every event")
    print(
        f"\nF7: {len(writes)} writes ({statuses}), postgres SIGKILLed for {DOWN_SECONDS}s "
        f"(down {back_at - killed_at:.1f}s), first 201 {recovery:.1f}s after the restart; "
        f"{len(created)} answered 201, all there; outbox drained {drained:.1f}s after the load, "
        f"{len(events)} events applied once each"
    )
    assert len(events) == len(created), "every deal answered 201 has its created event"
