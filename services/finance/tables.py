"""The finance schema. Invoices, payments and expenses land with their issue."""

from __future__ import annotations

import sqlalchemy as sa

from services.common.db import inbox_table, outbox_table

SCHEMA = "finance"
metadata = sa.MetaData(schema=SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

deal_money = sa.Table(
    "deal_money",
    metadata,
    sa.Column("deal_id", sa.BigInteger, primary_key=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("revenue", sa.Numeric(18, 2), nullable=False, server_default="0"),
    sa.Column("costs", sa.Numeric(18, 2), nullable=False, server_default="0"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
