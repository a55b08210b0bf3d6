"""task answer spec (fields, comment outcomes) and a watcher index

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 19:45:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "tasks",
        sa.Column(
            "answer_fields",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        schema="notifications",
    )
    op.add_column(
        "tasks",
        sa.Column(
            "comment_outcomes",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        schema="notifications",
    )
    op.create_index(
        "ix_tasks_watcher_ids",
        "tasks",
        ["watcher_ids"],
        unique=False,
        schema="notifications",
        postgresql_using="gin",
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_watcher_ids", table_name="tasks", schema="notifications")
    op.drop_column("tasks", "comment_outcomes", schema="notifications")
    op.drop_column("tasks", "answer_fields", schema="notifications")
