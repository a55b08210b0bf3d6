"""The notifications schema: tasks people do and the in-app notification feed."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.common.db import inbox_table, outbox_table

SCHEMA = "notifications"
metadata = sa.MetaData(schema=SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("assignee_id", sa.BigInteger, nullable=False),
    sa.Column(
        "watcher_ids", pg.ARRAY(sa.BigInteger), nullable=False, server_default=sa.text("'{}'")
    ),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("deadline", sa.DateTime(timezone=True)),
    sa.Column("deal_id", sa.BigInteger),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text),
    sa.Column("outcomes", pg.ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
    sa.Column("workflow_id", sa.Text),
    sa.Column("kind", sa.Text, nullable=False, server_default=""),
    sa.Column("result", pg.JSONB),
    sa.Column("completed_by", sa.BigInteger),
    sa.Column("completed_at", sa.DateTime(timezone=True)),
    sa.Column("cancelled_at", sa.DateTime(timezone=True)),
    sa.Column("cancel_reason", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("idempotency_key", sa.Text, unique=True),
    # What the answer needs (domain/answers.py): [{name, type, required, options, ...}].
    sa.Column("answer_fields", pg.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column(
        "comment_outcomes", pg.ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")
    ),
    # Items to tick off and the automation rule that made the task (services/deals rules).
    sa.Column("checklist", pg.ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
    sa.Column("rule_id", sa.Text),
    sa.CheckConstraint(
        "status IN ('open', 'completed', 'cancelled')", name="ck_tasks_status_known"
    ),
    # Listing is newest first (id desc) within each filter.
    sa.Index("ix_tasks_assignee_id", "assignee_id", "id"),
    sa.Index("ix_tasks_deal_id", "deal_id", "id"),
    sa.Index("ix_tasks_workflow_id", "workflow_id"),
    sa.Index("ix_tasks_watcher_ids", "watcher_ids", postgresql_using="gin"),
)

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False, server_default=""),
    sa.Column("deal_id", sa.BigInteger),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("event_id", pg.UUID(as_uuid=True)),
    sa.Column("idempotency_key", sa.Text, unique=True),
    # False: kept for delivery by e-mail or webhook, left out of the feed (preferences).
    sa.Column("in_app", sa.Boolean, nullable=False, server_default=sa.true()),
    # The same source event never notifies the same user twice.
    sa.UniqueConstraint("user_id", "event_id", name="uq_notifications_user_event"),
    sa.Index("ix_notifications_user_id", "user_id", "id"),
)

# ---- deal chats: one per deal, made when the deal is (consumer.py) ----
chats = sa.Table(
    "chats",
    metadata,
    sa.Column("deal_id", sa.BigInteger, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

chat_members = sa.Table(
    "chat_members",
    metadata,
    sa.Column("deal_id", sa.BigInteger, sa.ForeignKey(chats.c.deal_id), primary_key=True),
    sa.Column("user_id", sa.BigInteger, primary_key=True),
    sa.Column("added_by", sa.BigInteger),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
)

chat_messages = sa.Table(
    "chat_messages",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("deal_id", sa.BigInteger, sa.ForeignKey(chats.c.deal_id), nullable=False),
    sa.Column("author_id", sa.BigInteger),  # None: the system (the opening message)
    sa.Column("kind", sa.Text, nullable=False),  # opening | message
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("file_ids", pg.ARRAY(sa.BigInteger), nullable=False, server_default=sa.text("'{}'")),
    sa.Column(
        "mention_ids", pg.ARRAY(sa.BigInteger), nullable=False, server_default=sa.text("'{}'")
    ),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("idempotency_key", sa.Text, unique=True),
    sa.CheckConstraint("kind IN ('opening', 'message')", name="ck_chat_messages_kind_known"),
    sa.Index("ix_chat_messages_deal_id", "deal_id", "id"),
)

# ---- delivery: preferences per kind, webhooks, and the log of every attempt ----
preferences = sa.Table(
    "preferences",
    metadata,
    sa.Column("user_id", sa.BigInteger, primary_key=True),
    sa.Column("kind", sa.Text, primary_key=True),  # a notification kind, or "*" for the rest
    sa.Column("channels", pg.ARRAY(sa.Text), nullable=False),
)

webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("user_id", sa.BigInteger, nullable=False, index=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_webhooks_user_id", "user_id"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("notification_id", sa.BigInteger, sa.ForeignKey(notifications.c.id), nullable=False),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),  # email | webhook
    sa.Column("webhook_id", sa.BigInteger, sa.ForeignKey(webhooks.c.id)),
    sa.Column("status", sa.Text, nullable=False),  # pending | delivered | failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("delivered_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # every attempt: {at, ok, status, error}
    sa.Column("log", pg.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.CheckConstraint(
        "status IN ('pending', 'delivered', 'failed')", name="ck_deliveries_status_known"
    ),
    sa.CheckConstraint("channel IN ('email', 'webhook')", name="ck_deliveries_channel_known"),
    sa.Index(
        "ix_deliveries_due", "next_attempt_at", postgresql_where=sa.text("status = 'pending'")
    ),
    sa.Index("ix_deliveries_user_id", "user_id", "id"),
)
