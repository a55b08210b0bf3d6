"""The notifications schema's calendar feeds: one live secret per user (its SHA-256)."""

from __future__ import annotations

import sqlalchemy as sa

from services.notifications.tables import metadata

calendar_feeds = sa.Table(
    "calendar_feeds",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("token_hash", sa.Text, nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Index(
        "ux_calendar_feeds_live",
        "user_id",
        unique=True,
        postgresql_where=sa.text("revoked_at IS NULL"),
    ),
)
