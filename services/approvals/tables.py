"""The approvals schema. Chains, decisions and contracts land with their issue."""

from __future__ import annotations

import sqlalchemy as sa

from services.common.db import inbox_table, outbox_table

SCHEMA = "approvals"
metadata = sa.MetaData(schema=SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

requests = sa.Table(
    "requests",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("deal_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("template_code", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
