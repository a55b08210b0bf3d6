"""The deals schema's catalogue tables: products and the line items of deals."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.deals.tables import deals, metadata

products = sa.Table(
    "products",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("code", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("price", sa.Numeric, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("vat_rate", sa.Numeric, nullable=False),
    sa.Column("characteristics", pg.JSONB, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_products_type", "type", "id"),
)

# A deal's lines as last put, with the figures computed when they were (the product's
# price may change later; the deal keeps what was agreed).
deal_items = sa.Table(
    "deal_items",
    metadata,
    sa.Column("deal_id", sa.BigInteger, sa.ForeignKey(deals.c.id), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("product_id", sa.BigInteger, sa.ForeignKey(products.c.id), nullable=False),
    sa.Column("product_code", sa.Text, nullable=False),
    sa.Column("product_name", sa.Text, nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("quantity", sa.Numeric, nullable=False),
    sa.Column("price", sa.Numeric, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("discount", sa.Numeric, nullable=False),
    sa.Column("discount_type", sa.Text, nullable=False),
    sa.Column("discount_amount", sa.Numeric, nullable=False),
    sa.Column("vat_rate", sa.Numeric, nullable=False),
    sa.Column("net", sa.Numeric, nullable=False),
    sa.Column("vat", sa.Numeric, nullable=False),
    sa.Column("total", sa.Numeric, nullable=False),
    sa.Index("ix_deal_items_product", "product_id"),
)
