"""Migration 0005 on a database that has stage rules of the first shape: they become rules
of the new shape (version 1, enter/leave -> start_process) and run as before; down again,
they are what they were."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command

from deploy.local.stack import Stack
from tests.integration.deals.migration_data import deals_at

pytestmark = pytest.mark.integration


def test_first_shape_rules_are_migrated_and_back(infra: Stack) -> None:
    config, engine = deals_at(infra, "0004")
    now = datetime(2026, 11, 30, tzinfo=UTC)
    with engine.begin() as conn:
        pipeline = conn.execute(
            sa.text(
                "INSERT INTO deals.pipelines (name, created_at) VALUES ('P', :now) RETURNING id"
            ),
            {"now": now},
        ).scalar_one()
        stage = conn.execute(
            sa.text(
                "INSERT INTO deals.stages (pipeline_id, name, semantic, position) "
                "VALUES (:p, 'Terms approval', 'in_progress', 0) RETURNING id"
            ),
            {"p": pipeline},
        ).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO deals.stage_rules (pipeline_id, stage_id, event, action, process, "
                "params, active, created_at) VALUES (:p, :s, 'enter', 'start_process', "
                "'client_onboarding', '{\"template\": \"t\"}', true, :now)"
            ),
            {"p": pipeline, "s": stage, "now": now},
        )
    command.upgrade(config, "0005")
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT stage_id, definition, version FROM deals.stage_rules")
        ).one()
        versions = conn.execute(
            sa.text("SELECT version, definition FROM deals.rule_versions")
        ).all()
    assert row.stage_id == stage and row.version == 1
    assert row.definition == {
        "name": "client_onboarding on enter",
        "active": True,
        "trigger": {"event": "enter", "stage_id": stage},
        "actions": [
            {"type": "start_process", "process": "client_onboarding", "params": {"template": "t"}}
        ],
    }
    assert [(v.version, v.definition) for v in versions] == [(1, row.definition)]
    command.downgrade(config, "0004")
    with engine.connect() as conn:
        old = conn.execute(sa.text("SELECT event, process, params FROM deals.stage_rules")).one()
    assert (old.event, old.process, old.params) == ("enter", "client_onboarding", {"template": "t"})
    engine.dispose()
