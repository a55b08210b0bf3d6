"""Migration 0015 on a database with rules and a run log: each deal counts its waiting runs
(scheduled, waiting on a move; not those that ended), every pipeline gets a rules version,
and from then on a rule write bumps it and a run's status moves the count; down again, the
columns and triggers are gone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command

from deploy.local.stack import Stack
from tests.integration.deals.migration_data import columns_of, deals_at, pipeline_with_deals

pytestmark = pytest.mark.integration
q = sa.text
WAITING = q("SELECT id, waiting_runs FROM deals.deals ORDER BY id")
VERSION = q("SELECT rules_version FROM deals.pipelines WHERE id = :p")


def test_the_run_log_so_far_is_counted_and_kept_counted(infra: Stack) -> None:
    config, engine = deals_at(infra, "0014")
    now = datetime(2026, 12, 2, 5, tzinfo=UTC)
    with engine.begin() as conn:
        a, _, _, (first, second, third) = pipeline_with_deals(conn, now, deals=3)
        pipeline = conn.execute(q("SELECT pipeline_id FROM deals.stages WHERE id = :a"), {"a": a})
        pipeline_id = pipeline.scalar_one()
        rule_id = conn.execute(
            q(
                "INSERT INTO deals.stage_rules (pipeline_id, stage_id, definition, created_at)"
                " VALUES (:p, :s, '{}', :now) RETURNING id"
            ),
            {"p": pipeline_id, "s": a, "now": now},
        ).scalar_one()
        runs = [(first, "scheduled"), (first, "waiting_leave"), (first, "done"),
                (second, "cancelled"), (third, "scheduled")]  # fmt: skip
        for n, (deal_id, status) in enumerate(runs):
            conn.execute(
                q(
                    "INSERT INTO deals.automation_runs (workflow_id, deal_id, rule_id,"
                    " rule_version, event_id, trigger, fired, reason, status, plan, created_at,"
                    " updated_at) VALUES (:w, :d, :r, 1, :e, 't', true, '', :s, '{}', :now, :now)"
                ),
                {"w": f"w{n}", "d": deal_id, "r": rule_id, "e": f"e{n}", "s": status, "now": now},
            )
    command.upgrade(config, "0015")
    with engine.begin() as conn:
        assert [tuple(r) for r in conn.execute(WAITING)] == [(first, 2), (second, 0), (third, 1)]
        start = conn.execute(VERSION, {"p": pipeline_id}).scalar_one()
        assert start > 0, "a version no worker can hold from before"
        conn.execute(q("UPDATE deals.automation_runs SET status = 'done' WHERE workflow_id = 'w0'"))
        conn.execute(
            q("UPDATE deals.automation_runs SET steps = '[1]' WHERE workflow_id = 'w1'")
        )  # no status change: no count change
        conn.execute(q("UPDATE deals.automation_runs SET status = 'running' WHERE id > 3"))
        conn.execute(q("UPDATE deals.stage_rules SET active = false WHERE id = :r"), {"r": rule_id})
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(WAITING)] == [(first, 1), (second, 0), (third, 0)]
        assert conn.execute(VERSION, {"p": pipeline_id}).scalar_one() == start + 1
    command.downgrade(config, "0014")
    with engine.connect() as conn:
        assert "waiting_runs" not in columns_of(conn, "deals")
        assert "waiting_runs" not in columns_of(conn, "leads")
        assert "rules_version" not in columns_of(conn, "pipelines")
        triggers = conn.execute(
            q("SELECT tgname FROM pg_trigger WHERE tgname IN (:a, :b)"),
            {"a": "automation_runs_count_waiting", "b": "stage_rules_bump_version"},
        )
        assert triggers.all() == []
    engine.dispose()
