"""stage history: the stage each visit led to (kept when the visit ends), and an index by
stage and entry time, for the funnel reports

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-01 22:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "stage_history", sa.Column("next_stage_id", sa.BigInteger(), nullable=True), schema="deals"
    )
    op.execute(
        """
        UPDATE deals.stage_history h SET next_stage_id = n.next_stage_id
          FROM (SELECT id, lead(stage_id) OVER (PARTITION BY deal_id ORDER BY id) AS next_stage_id
                  FROM deals.stage_history) n
         WHERE n.id = h.id AND n.next_stage_id IS NOT NULL
        """
    )
    op.create_index(
        "ix_stage_history_stage_entered",
        "stage_history",
        ["stage_id", "entered_at"],
        schema="deals",
    )


def downgrade() -> None:
    op.drop_index("ix_stage_history_stage_entered", table_name="stage_history", schema="deals")
    op.drop_column("stage_history", "next_stage_id", schema="deals")
