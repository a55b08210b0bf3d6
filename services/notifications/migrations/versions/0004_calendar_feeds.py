"""calendar feeds: each user's secret, revocable iCalendar URL (its hash)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 22:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        schema="notifications",
    )
    op.create_index(
        "ux_calendar_feeds_live",
        "calendar_feeds",
        ["user_id"],
        unique=True,
        schema="notifications",
        postgresql_where=sa.text("revoked_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("calendar_feeds", schema="notifications")
