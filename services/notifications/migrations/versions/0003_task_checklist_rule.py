"""a task's checklist and the automation rule that made it

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 19:50:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "tasks",
        sa.Column(
            "checklist",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        schema="notifications",
    )
    op.add_column("tasks", sa.Column("rule_id", sa.Text()), schema="notifications")


def downgrade() -> None:
    op.drop_column("tasks", "rule_id", schema="notifications")
    op.drop_column("tasks", "checklist", schema="notifications")
