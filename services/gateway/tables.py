"""The gateway's own schema: the records of Idempotency-Key requests, nothing else (the
gateway holds no business data)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

SCHEMA = "gateway"
metadata = sa.MetaData(schema=SCHEMA)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("principal", sa.Text, primary_key=True),
    sa.Column("method", sa.Text, primary_key=True),
    sa.Column("path", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    # sha256 of the query string and the (canonical) body: same key, other body → 422.
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),  # pending | done
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # While pending: until when the owner is presumed alive (then a retry takes over).
    sa.Column("locked_until", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.Integer),
    sa.Column("headers", pg.JSONB),
    sa.Column("body", sa.LargeBinary),
    sa.Index("ix_idempotency_keys_created_at", "created_at"),
)
