"""Migration 0014 on a database with stage history: the history so far is counted into the
funnel's cells (folded, per responsible and for everyone), each ended visit gets its
seconds; a deal's new amount afterwards moves its cells' sums; down again, all is gone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic import command

from deploy.local.stack import Stack
from tests.integration.deals.migration_data import columns_of, deals_at, pipeline_with_deals

pytestmark = pytest.mark.integration
q = sa.text
CELLS = q(
    "SELECT stage_id, entered_on, reentered_on, next_stage_id, currency, passes, priced, amount"
    " FROM deals.funnel_passes_all ORDER BY stage_id, next_stage_id NULLS LAST, currency"
)


def test_the_history_so_far_is_counted(infra: Stack) -> None:
    config, engine = deals_at(infra, "0013")
    now = datetime(2026, 11, 30, 9, tzinfo=UTC)
    hour = timedelta(hours=1)
    with engine.begin() as conn:
        a, b, user, (first, second) = pipeline_with_deals(conn, now, deals=2)
        conn.execute(q("UPDATE deals.deals SET amount = 100.50 WHERE id = :d"), {"d": first})
        conn.execute(q("UPDATE deals.deals SET currency = 'USD' WHERE id = :d"), {"d": second})
        visits = [  # deal, stage, entered, left, next, entered again
            (first, a, now, now + hour, b, now + 3 * hour),
            (first, b, now + hour, now + 3 * hour, a, None),
            (first, a, now + 3 * hour, None, None, None),
            (second, a, now, now + hour / 2, b, None),
            (second, b, now + hour / 2, None, None, None),
        ]
        for deal_id, stage, entered, left, following, again in visits:
            conn.execute(
                q(
                    "INSERT INTO deals.stage_history (deal_id, stage_id, entered_at, left_at,"
                    " next_stage_id, responsible_id, reentered_at)"
                    " VALUES (:d, :s, :e, :l, :n, :u, :r)"
                ),
                {"d": deal_id, "s": stage, "e": entered, "l": left, "n": following, "u": user,
                 "r": again},
            )  # fmt: skip
    command.upgrade(config, "0014")
    day = date(2026, 11, 30)
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(CELLS).all()] == [
            (a, day, day, b, "RUB", 1, 1, Decimal("100.50")),
            (a, day, None, b, "USD", 1, 0, 0),
            (a, day, None, None, "RUB", 1, 1, Decimal("100.50")),
            (b, day, None, a, "RUB", 1, 1, Decimal("100.50")),
            (b, day, None, None, "USD", 1, 0, 0),
        ]
        mine = conn.execute(q("SELECT DISTINCT responsible_id FROM deals.funnel_passes"))
        assert mine.scalars().all() == [user]
        seconds = conn.execute(q("SELECT seconds FROM deals.stage_history ORDER BY id")).scalars()
        assert [None if s is None else float(s) for s in seconds] == [3600, 7200, None, 1800, None]
        durations = conn.execute(
            q("SELECT stage_id, sum(passes) FROM deals.funnel_durations_all GROUP BY 1 ORDER BY 1")
        )
        assert [tuple(r) for r in durations] == [(a, 2), (b, 1)]
        for table in ("funnel_pass_changes", "funnel_duration_changes"):
            assert conn.execute(q(f"SELECT count(*) FROM deals.{table}")).scalar_one() == 0
    with engine.begin() as conn:  # the deal's new amount moves its three passes' sums
        conn.execute(q("UPDATE deals.deals SET amount = 7 WHERE id = :d"), {"d": first})
        conn.execute(q("SELECT deals.fold_funnel_changes()"))
    with engine.connect() as conn:
        sums = {(r.stage_id, r.next_stage_id, r.currency): r.amount for r in conn.execute(CELLS)}
    assert sums[(a, b, "RUB")] == sums[(b, a, "RUB")] == sums[(a, None, "RUB")] == 7
    command.downgrade(config, "0013")
    with engine.connect() as conn:
        tables = conn.execute(
            q("SELECT table_name FROM information_schema.tables WHERE table_schema = 'deals'")
        ).scalars()
        assert not [t for t in tables if t.startswith("funnel_")]
        assert not {"seconds", "duration_bucket"} & columns_of(conn, "stage_history")
    engine.dispose()
