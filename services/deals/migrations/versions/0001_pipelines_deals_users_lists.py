"""pipelines deals users lists

Revision ID: 0001
Revises:
Create Date: 2026-11-24 13:24:37.374208
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("head_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["deals.departments.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        schema="deals",
    )
    op.create_table(
        "lists",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("columns", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code"),
        schema="deals",
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), server_default="", nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
        schema="deals",
    )
    op.create_index("ix_outbox_created_at", "outbox", ["created_at"], unique=False, schema="deals")
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["seq"],
        unique=False,
        schema="deals",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "pipelines",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        schema="deals",
    )
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
        schema="deals",
    )
    op.create_table(
        "field_definitions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("pipeline_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("required_on_stages", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("options", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("list_code", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["deals.pipelines.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pipeline_id", "code", name="uq_field_definitions_pipeline_code"),
        schema="deals",
    )
    op.create_table(
        "list_items",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("list_code", sa.Text(), nullable=False),
        sa.Column("values", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_code"],
            ["deals.lists.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        schema="deals",
    )
    op.create_index(
        "ix_list_items_list", "list_items", ["list_code", "id"], unique=False, schema="deals"
    )
    op.create_table(
        "stages",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("pipeline_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("semantic", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["deals.pipelines.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        schema="deals",
    )
    op.create_index(
        "ix_stages_pipeline_position",
        "stages",
        ["pipeline_id", "position"],
        unique=False,
        schema="deals",
    )
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("roles", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("department_id", sa.BigInteger(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["deals.departments.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        schema="deals",
    )
    # users and departments point at each other: the head key comes once both exist.
    op.create_foreign_key(
        "fk_departments_head_id_users",
        "departments",
        "users",
        ["head_id"],
        ["id"],
        source_schema="deals",
        referent_schema="deals",
    )
    op.create_index(
        "uq_users_email_lower",
        "users",
        [sa.literal_column("lower(email)")],
        unique=True,
        schema="deals",
    )
    op.create_table(
        "deals",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("pipeline_id", sa.BigInteger(), nullable=False),
        sa.Column("stage_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("responsible_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.Numeric(), nullable=True),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("company_name", sa.Text(), server_default="", nullable=False),
        sa.Column("contact_name", sa.Text(), server_default="", nullable=False),
        sa.Column("fields", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stage_entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["deals.pipelines.id"],
        ),
        sa.ForeignKeyConstraint(
            ["responsible_id"],
            ["deals.users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["deals.stages.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        schema="deals",
    )
    op.create_index(
        "ix_deals_board",
        "deals",
        ["pipeline_id", "stage_id", "responsible_id", sa.literal_column("id DESC")],
        unique=False,
        schema="deals",
    )
    op.create_index(
        "ix_deals_responsible", "deals", ["responsible_id", "id"], unique=False, schema="deals"
    )
    op.create_table(
        "stage_history",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("deal_id", sa.BigInteger(), nullable=False),
        sa.Column("stage_id", sa.BigInteger(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.deals.id"],
        ),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["deals.stages.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        schema="deals",
    )
    op.create_index(
        "ix_stage_history_deal", "stage_history", ["deal_id", "id"], unique=False, schema="deals"
    )
    op.create_table(
        "timeline",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("deal_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), server_default="", nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.deals.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
        schema="deals",
    )
    op.create_index("ix_timeline_deal", "timeline", ["deal_id", "id"], unique=False, schema="deals")


def downgrade() -> None:
    op.drop_constraint(
        "fk_departments_head_id_users", "departments", schema="deals", type_="foreignkey"
    )
    op.drop_index("ix_timeline_deal", table_name="timeline", schema="deals")
    op.drop_table("timeline", schema="deals")
    op.drop_index("ix_stage_history_deal", table_name="stage_history", schema="deals")
    op.drop_table("stage_history", schema="deals")
    op.drop_index("ix_deals_responsible", table_name="deals", schema="deals")
    op.drop_index("ix_deals_board", table_name="deals", schema="deals")
    op.drop_table("deals", schema="deals")
    op.drop_index("uq_users_email_lower", table_name="users", schema="deals")
    op.drop_table("users", schema="deals")
    op.drop_index("ix_stages_pipeline_position", table_name="stages", schema="deals")
    op.drop_table("stages", schema="deals")
    op.drop_index("ix_list_items_list", table_name="list_items", schema="deals")
    op.drop_table("list_items", schema="deals")
    op.drop_table("field_definitions", schema="deals")
    op.drop_table("processed_events", schema="deals")
    op.drop_table("pipelines", schema="deals")
    op.drop_index(
        "ix_outbox_pending",
        table_name="outbox",
        schema="deals",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_index("ix_outbox_created_at", table_name="outbox", schema="deals")
    op.drop_table("outbox", schema="deals")
    op.drop_table("lists", schema="deals")
    op.drop_table("departments", schema="deals")
