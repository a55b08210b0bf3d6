"""timeline proposals index: the proposals report (SM-1) reads the proposal entries of a
period across all deals

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-01 23:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None
PROPOSAL_KINDS = "kind IN ('proposal.sent', 'proposal.agreed', 'proposal.refused')"


def upgrade() -> None:
    op.create_index(
        "ix_timeline_proposals",
        "timeline",
        ["created_at"],
        unique=False,
        schema="deals",
        postgresql_where=sa.text(PROPOSAL_KINDS),
    )


def downgrade() -> None:
    op.drop_index("ix_timeline_proposals", table_name="timeline", schema="deals")
