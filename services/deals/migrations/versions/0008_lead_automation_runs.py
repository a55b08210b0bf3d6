"""lead automation runs: the run log holds runs on leads too (deal_id or lead_id)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("automation_runs", "deal_id", nullable=True, schema="deals")
    op.add_column(
        "automation_runs",
        sa.Column("lead_id", sa.BigInteger(), sa.ForeignKey("deals.leads.id"), nullable=True),
        schema="deals",
    )
    op.create_check_constraint(
        "ck_automation_runs_one_record",
        "automation_runs",
        "(deal_id IS NULL) <> (lead_id IS NULL)",
        schema="deals",
    )
    op.create_index(
        "ix_automation_runs_lead_created",
        "automation_runs",
        ["lead_id", "created_at"],
        schema="deals",
    )


def downgrade() -> None:
    op.drop_index("ix_automation_runs_lead_created", "automation_runs", schema="deals")
    op.drop_constraint("ck_automation_runs_one_record", "automation_runs", schema="deals")
    op.execute("DELETE FROM deals.automation_runs WHERE lead_id IS NOT NULL")
    op.drop_column("automation_runs", "lead_id", schema="deals")
    op.alter_column("automation_runs", "deal_id", nullable=False, schema="deals")
