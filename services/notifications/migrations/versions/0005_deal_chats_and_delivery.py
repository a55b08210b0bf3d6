"""deal chats (members, messages with files and mentions); delivery of notifications by
e-mail and signed webhooks (per-user preferences per kind, webhooks, the delivery log)

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-01 22:50:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BIGINTS = postgresql.ARRAY(sa.BigInteger())


def upgrade() -> None:
    op.create_table(
        "chats",
        sa.Column("deal_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("deal_id"),
        schema="notifications",
    )
    op.create_table(
        "chat_members",
        sa.Column("deal_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("added_by", sa.BigInteger(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["deal_id"], ["notifications.chats.deal_id"]),
        sa.PrimaryKeyConstraint("deal_id", "user_id"),
        schema="notifications",
    )
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("deal_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("file_ids", _BIGINTS, server_default=sa.text("'{}'"), nullable=False),
        sa.Column("mention_ids", _BIGINTS, server_default=sa.text("'{}'"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('opening', 'message')", name="ck_chat_messages_kind_known"),
        sa.ForeignKeyConstraint(["deal_id"], ["notifications.chats.deal_id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
        schema="notifications",
    )
    op.create_index(
        "ix_chat_messages_deal_id", "chat_messages", ["deal_id", "id"], schema="notifications"
    )
    op.add_column(
        "notifications",
        sa.Column("in_app", sa.Boolean(), server_default=sa.true(), nullable=False),
        schema="notifications",
    )
    op.create_table(
        "preferences",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("channels", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "kind"),
        schema="notifications",
    )
    op.create_table(
        "webhooks",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        schema="notifications",
    )
    op.create_index("ix_webhooks_user_id", "webhooks", ["user_id"], schema="notifications")
    op.create_table(
        "deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("notification_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("webhook_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("log", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')", name="ck_deliveries_status_known"
        ),
        sa.CheckConstraint("channel IN ('email', 'webhook')", name="ck_deliveries_channel_known"),
        sa.ForeignKeyConstraint(["notification_id"], ["notifications.notifications.id"]),
        sa.ForeignKeyConstraint(["webhook_id"], ["notifications.webhooks.id"]),
        sa.PrimaryKeyConstraint("id"),
        schema="notifications",
    )
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["next_attempt_at"],
        schema="notifications",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_deliveries_user_id", "deliveries", ["user_id", "id"], schema="notifications"
    )


def downgrade() -> None:
    op.drop_table("deliveries", schema="notifications")
    op.drop_table("webhooks", schema="notifications")
    op.drop_table("preferences", schema="notifications")
    op.drop_column("notifications", "in_app", schema="notifications")
    op.drop_table("chat_messages", schema="notifications")
    op.drop_table("chat_members", schema="notifications")
    op.drop_table("chats", schema="notifications")
