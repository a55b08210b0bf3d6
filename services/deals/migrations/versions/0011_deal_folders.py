"""deal folders: every deal's folder tree (a root made with the deal, sub-folders), and the
folder a file lies in; existing deals get their root folder and their files land in it

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-01 22:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "folders",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("deal_id", sa.BigInteger(), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["deal_id"], ["deals.deals.id"]),
        sa.ForeignKeyConstraint(["parent_id"], ["deals.folders.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("deal_id", "parent_id", "name", name="uq_folders_name_in_parent"),
        schema="deals",
    )
    op.create_index(
        op.f("ix_deals_folders_deal_id"), "folders", ["deal_id"], unique=False, schema="deals"
    )
    op.create_index(
        "uq_folders_one_root",
        "folders",
        ["deal_id"],
        unique=True,
        schema="deals",
        postgresql_where=sa.text("parent_id IS NULL"),
    )
    op.add_column("files", sa.Column("folder_id", sa.BigInteger(), nullable=True), schema="deals")
    op.create_foreign_key(
        "files_folder_id_fkey",
        "files",
        "folders",
        ["folder_id"],
        ["id"],
        source_schema="deals",
        referent_schema="deals",
    )
    op.create_index(
        op.f("ix_deals_files_folder_id"), "files", ["folder_id"], unique=False, schema="deals"
    )
    op.execute(
        "INSERT INTO deals.folders (deal_id, parent_id, name, created_at) "
        "SELECT id, NULL, title, now() FROM deals.deals"
    )
    op.execute(
        "UPDATE deals.files f SET folder_id = r.id FROM deals.folders r "
        "WHERE r.deal_id = f.deal_id AND r.parent_id IS NULL"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_deals_files_folder_id"), table_name="files", schema="deals")
    op.drop_constraint("files_folder_id_fkey", "files", schema="deals", type_="foreignkey")
    op.drop_column("files", "folder_id", schema="deals")
    op.drop_index("uq_folders_one_root", table_name="folders", schema="deals")
    op.drop_index(op.f("ix_deals_folders_deal_id"), table_name="folders", schema="deals")
    op.drop_table("folders", schema="deals")
