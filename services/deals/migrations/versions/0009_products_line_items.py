"""products and deal line items: the catalogue and each deal's priced lines

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:40:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("code", sa.Text(), nullable=False, unique=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("price", sa.Numeric(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("vat_rate", sa.Numeric(), nullable=False),
        sa.Column("characteristics", pg.JSONB(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema="deals",
    )
    op.create_index("ix_products_type", "products", ["type", "id"], schema="deals")
    op.create_table(
        "deal_items",
        sa.Column("deal_id", sa.BigInteger(), sa.ForeignKey("deals.deals.id"), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column(
            "product_id", sa.BigInteger(), sa.ForeignKey("deals.products.id"), nullable=False
        ),
        sa.Column("product_code", sa.Text(), nullable=False),
        sa.Column("product_name", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Numeric(), nullable=False),
        sa.Column("price", sa.Numeric(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("discount", sa.Numeric(), nullable=False),
        sa.Column("discount_type", sa.Text(), nullable=False),
        sa.Column("discount_amount", sa.Numeric(), nullable=False),
        sa.Column("vat_rate", sa.Numeric(), nullable=False),
        sa.Column("net", sa.Numeric(), nullable=False),
        sa.Column("vat", sa.Numeric(), nullable=False),
        sa.Column("total", sa.Numeric(), nullable=False),
        schema="deals",
    )
    op.create_index("ix_deal_items_product", "deal_items", ["product_id"], schema="deals")


def downgrade() -> None:
    op.drop_index("ix_deal_items_product", "deal_items", schema="deals")
    op.drop_table("deal_items", schema="deals")
    op.drop_index("ix_products_type", "products", schema="deals")
    op.drop_table("products", schema="deals")
