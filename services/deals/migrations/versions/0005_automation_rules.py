"""automation rules: rule definitions and versions, the run log, the company calendar,
links between deals, computed fields and fields required to leave a stage

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 19:40:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

S = "deals"


def upgrade() -> None:
    # Computed fields, a money field's own currency, fields required to leave a stage.
    op.add_column(
        "field_definitions",
        sa.Column("formula", sa.Text(), server_default="", nullable=False),
        schema=S,
    )
    op.add_column(
        "field_definitions",
        sa.Column("currency", sa.Text(), server_default="", nullable=False),
        schema=S,
    )
    op.add_column(
        "field_definitions",
        sa.Column(
            "required_to_leave",
            postgresql.ARRAY(sa.BigInteger()),
            server_default="{}",
            nullable=False,
        ),
        schema=S,
    )
    op.add_column(
        "stage_rules", sa.Column("definition", postgresql.JSONB(), nullable=True), schema=S
    )
    op.add_column(
        "stage_rules",
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        schema=S,
    )
    op.add_column("stage_rules", sa.Column("updated_at", sa.DateTime(timezone=True)), schema=S)
    # The first rules (enter/leave -> start a process) in the rule shape.
    op.execute(
        """
        UPDATE deals.stage_rules SET definition = jsonb_build_object(
            'name', process || ' on ' || event,
            'active', active,
            'trigger', jsonb_build_object('event', event, 'stage_id', stage_id),
            'actions', jsonb_build_array(jsonb_build_object(
                'type', 'start_process', 'process', process, 'params', params)))
        """
    )
    op.alter_column("stage_rules", "definition", nullable=False, schema=S)
    op.alter_column("stage_rules", "stage_id", nullable=True, schema=S)
    for column in ("event", "action", "process", "params"):
        op.drop_column("stage_rules", column, schema=S)
    op.create_table(
        "rule_versions",
        sa.Column("rule_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("pipeline_id", sa.BigInteger(), nullable=False),
        sa.Column("definition", postgresql.JSONB(), nullable=False),
        sa.Column("actor_id", sa.BigInteger()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("rule_id", "version"),
        schema=S,
    )
    op.execute(
        """
        INSERT INTO deals.rule_versions (rule_id, version, pipeline_id, definition, created_at)
        SELECT id, 1, pipeline_id, definition, created_at FROM deals.stage_rules
        """
    )
    op.create_table(
        "automation_runs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("workflow_id", sa.Text(), nullable=False),
        sa.Column("deal_id", sa.BigInteger(), nullable=False),
        sa.Column("rule_id", sa.BigInteger(), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("fired", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True)),
        sa.Column("plan", postgresql.JSONB(), nullable=False),
        sa.Column(
            "steps", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["deal_id"], ["deals.deals.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workflow_id"),
        schema=S,
    )
    op.create_index(
        "ix_automation_runs_deal_created", "automation_runs", ["deal_id", "created_at"], schema=S
    )
    op.create_table(
        "company_calendar",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition", postgresql.JSONB(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        schema=S,
    )
    op.create_table(
        "deal_links",
        sa.Column("deal_id", sa.BigInteger(), nullable=False),
        sa.Column("linked_deal_id", sa.BigInteger(), nullable=False),
        sa.Column("relation", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["deal_id"], ["deals.deals.id"]),
        sa.ForeignKeyConstraint(["linked_deal_id"], ["deals.deals.id"]),
        sa.PrimaryKeyConstraint("deal_id", "linked_deal_id"),
        sa.UniqueConstraint("idempotency_key"),
        schema=S,
    )


def downgrade() -> None:
    for column in ("formula", "currency", "required_to_leave"):
        op.drop_column("field_definitions", column, schema=S)
    op.drop_table("deal_links", schema=S)
    op.drop_table("company_calendar", schema=S)
    op.drop_index("ix_automation_runs_deal_created", table_name="automation_runs", schema=S)
    op.drop_table("automation_runs", schema=S)
    op.drop_table("rule_versions", schema=S)
    op.add_column("stage_rules", sa.Column("event", sa.Text()), schema=S)
    op.add_column("stage_rules", sa.Column("action", sa.Text()), schema=S)
    op.add_column("stage_rules", sa.Column("process", sa.Text()), schema=S)
    op.add_column("stage_rules", sa.Column("params", postgresql.JSONB()), schema=S)
    # Only rules of the first shape go back; the others cannot be told in it.
    op.execute(
        """
        DELETE FROM deals.stage_rules WHERE stage_id IS NULL
            OR jsonb_array_length(definition->'actions') <> 1
            OR definition->'actions'->0->>'type' <> 'start_process'
            OR definition->'trigger'->>'event' NOT IN ('enter', 'leave')
        """
    )
    op.execute(
        """
        UPDATE deals.stage_rules SET event = definition->'trigger'->>'event',
            action = 'start_process', process = definition->'actions'->0->>'process',
            params = coalesce(definition->'actions'->0->'params', '{}'::jsonb)
        """
    )
    for column in ("event", "action", "process", "params"):
        op.alter_column("stage_rules", column, nullable=False, schema=S)
    op.alter_column("stage_rules", "stage_id", nullable=False, schema=S)
    for column in ("definition", "version", "updated_at"):
        op.drop_column("stage_rules", column, schema=S)
