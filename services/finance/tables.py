"""The finance schema: invoices, the payment registry, spends (supplier payment requests and
expenses), the payment schedule and the money figures of deals. Amounts are numeric(18, 2)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.common.creations import creations_table
from services.common.db import inbox_table, outbox_table

SCHEMA = "finance"
metadata = sa.MetaData(schema=SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
creations = creations_table(
    metadata
)  # Idempotency-Keys of creating calls (services/common/creations.py)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True)


def _money(name: str, *, default: bool = False) -> sa.Column[Decimal]:
    return sa.Column(
        name, sa.Numeric(18, 2), nullable=False, server_default="0" if default else None
    )


def _at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


deal_money = sa.Table(
    "deal_money",
    metadata,
    sa.Column("deal_id", sa.BigInteger, primary_key=True),
    sa.Column("currency", sa.String(3), nullable=False),
    _money("revenue", default=True),
    _money("costs", default=True),
    _at("updated_at"),
    # bumped on every change, so a consumer applies the figures of the latest change only
    sa.Column("version", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("owner_id", sa.BigInteger),
)

invoices = sa.Table(
    "invoices",
    metadata,
    _id(),
    sa.Column("deal_id", sa.BigInteger),
    sa.Column("owner_id", sa.BigInteger, nullable=False),
    sa.Column("requested_by", sa.BigInteger),
    sa.Column("counterparty", sa.Text, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    _money("total"),
    _money("paid", default=True),
    sa.Column("number", sa.Text),
    sa.Column("due_date", sa.Date),
    sa.Column("file_ref", sa.Text, nullable=False, server_default=""),
    sa.Column("comment", sa.Text, nullable=False, server_default=""),
    sa.Column("issued_by", sa.BigInteger),
    _at("created_at"),
    _at("issued_at", nullable=True),
    _at("updated_at"),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("fully_paid_count", sa.Integer, nullable=False, server_default="0"),
    sa.UniqueConstraint("number", name="uq_invoices_number"),
    sa.CheckConstraint("paid >= 0", name="ck_invoices_paid_not_negative"),
    sa.Index("ix_invoices_deal", "deal_id"),
    sa.Index("ix_invoices_owner", "owner_id", "id"),
)

invoice_lines = sa.Table(
    "invoice_lines",
    metadata,
    sa.Column(
        "invoice_id",
        sa.BigInteger,
        sa.ForeignKey(invoices.c.id, ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("quantity", sa.Numeric(15, 3), nullable=False),
    _money("unit_price"),
    _money("amount"),
)

spends = sa.Table(
    "spends",
    metadata,
    _id(),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("owner_id", sa.BigInteger, nullable=False),
    sa.Column("author_id", sa.BigInteger),
    sa.Column("deal_id", sa.BigInteger),
    sa.Column("counterparty", sa.Text, nullable=False),
    sa.Column("purpose", sa.Text, nullable=False),
    _money("amount"),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("due_date", sa.Date, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("decision_comment", sa.Text, nullable=False, server_default=""),
    sa.Column("decided_by", sa.BigInteger),
    sa.Column("paid_by", sa.BigInteger),
    sa.Column("payment_id", sa.BigInteger),
    sa.Column("closing_documents", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
    _at("created_at"),
    _at("updated_at"),
    sa.Index("ix_spends_kind_owner", "kind", "owner_id", "id"),
    sa.Index("ix_spends_kind_status", "kind", "status", "id"),
)

payments = sa.Table(
    "payments",
    metadata,
    _id(),
    sa.Column("direction", sa.Text, nullable=False),  # in: from a client, out: to a supplier
    sa.Column("kind", sa.Text, nullable=False),  # payment or refund (negative amount)
    sa.Column("invoice_id", sa.BigInteger, sa.ForeignKey(invoices.c.id)),
    sa.Column("spend_id", sa.BigInteger, sa.ForeignKey(spends.c.id)),
    sa.Column("deal_id", sa.BigInteger),
    sa.Column("owner_id", sa.BigInteger, nullable=False),
    sa.Column("counterparty", sa.Text, nullable=False),
    _money("amount"),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("paid_on", sa.Date, nullable=False),
    sa.Column("reference", sa.Text, nullable=False, server_default=""),
    sa.Column("recorded_by", sa.BigInteger),
    # what this entry changed in the deal's figures (the margin report sums these)
    _money("revenue_delta", default=True),
    _money("cost_delta", default=True),
    _money("overpayment", default=True),
    sa.Column("idempotency_key", sa.Text, unique=True),
    _at("created_at"),
    sa.Index("ix_payments_owner", "owner_id", "id"),
    sa.Index("ix_payments_paid_on", "paid_on"),
    sa.Index("ix_payments_invoice", "invoice_id"),
)

schedule_entries = sa.Table(
    "schedule_entries",
    metadata,
    _id(),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("source_id", sa.BigInteger, nullable=False),
    sa.Column("direction", sa.Text, nullable=False),
    _money("amount"),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("due_date", sa.Date, nullable=False),
    sa.Column("owner_id", sa.BigInteger, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    _at("created_at"),
    sa.UniqueConstraint("source", "source_id", name="uq_schedule_entries_source"),
    sa.Index("ix_schedule_entries_due", "due_date"),
)

schedule_resets = sa.Table(
    "schedule_resets",
    metadata,
    _id(),
    sa.Column("after_entry_id", sa.BigInteger, nullable=False),
    sa.Column("actor_id", sa.BigInteger),
    _at("created_at"),
)
