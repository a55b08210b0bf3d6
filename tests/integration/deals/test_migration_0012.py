"""Migration 0012 on a database with stage history: every ended visit gets the stage it led
to (the deal's next visit), the open one none; every row the deal's responsible, which
follows a reassignment; down again, the columns are gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command

from deploy.local.stack import Stack
from tests.integration.deals.migration_data import columns_of, deals_at, pipeline_with_deals

pytestmark = pytest.mark.integration


def test_ended_visits_learn_where_they_led(infra: Stack) -> None:
    config, engine = deals_at(infra, "0008")
    now = datetime(2026, 11, 30, tzinfo=UTC)
    q = sa.text
    with engine.begin() as conn:
        a, b, user, deal_ids = pipeline_with_deals(conn, now, deals=2)
        visits = [(deal_ids[0], a), (deal_ids[1], a), (deal_ids[0], b), (deal_ids[0], a)]
        for i, (deal_id, stage) in enumerate(visits):
            conn.execute(
                q(
                    "INSERT INTO deals.stage_history (deal_id, stage_id, entered_at) "
                    "VALUES (:d, :s, :at)"
                ),
                {"d": deal_id, "s": stage, "at": now + timedelta(hours=i)},
            )
    command.upgrade(config, "0012")
    history = q(
        "SELECT deal_id, stage_id, next_stage_id, responsible_id, reentered_at"
        " FROM deals.stage_history ORDER BY id"
    )
    with engine.connect() as conn:
        rows = conn.execute(history).all()
    first, second = deal_ids
    assert [tuple(r) for r in rows] == [
        (first, a, b, user, now + timedelta(hours=3)),  # entered A again at the fourth visit
        (second, a, None, user, None),
        (first, b, a, user, None),
        (first, a, None, user, None),
    ]
    with engine.begin() as conn:  # a reassigned deal's rows follow it
        other = conn.execute(
            q(
                "INSERT INTO deals.users (email, name, password_hash, roles, created_at) "
                "VALUES ('o@x.test', 'o', '!', '{manager}', :now) RETURNING id"
            ),
            {"now": now},
        ).scalar_one()
        conn.execute(
            q("UPDATE deals.deals SET responsible_id = :o WHERE id = :d"), {"o": other, "d": first}
        )
    with engine.connect() as conn:
        owners = [(r.deal_id, r.responsible_id) for r in conn.execute(history).all()]
    assert owners == [(first, other), (second, user), (first, other), (first, other)]
    command.downgrade(config, "0008")
    with engine.connect() as conn:
        assert not {"next_stage_id", "responsible_id"} & columns_of(conn, "stage_history")
    engine.dispose()
