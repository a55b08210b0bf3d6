"""creations: the Idempotency-Key of each creating call, and what it made

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "creations",
        sa.Column("actor_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("actor_id", "kind", "key"),
        schema="approvals",
    )


def downgrade() -> None:
    op.drop_table("creations", schema="approvals")
