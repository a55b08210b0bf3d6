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
    # The same source event never notifies the same user twice.
    sa.UniqueConstraint("user_id", "event_id", name="uq_notifications_user_event"),
    sa.Index("ix_notifications_user_id", "user_id", "id"),
)
