"""stage history for the funnel reports: the stage each visit led to (kept when the visit
ends), when the deal entered the same stage again, the deal's responsible on each row (kept
in step with the deal by a trigger), and indexes by stage and by responsible with the entry
time

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-01 22:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None
_INCLUDED = ["deal_id", "id", "left_at", "next_stage_id", "reentered_at"]


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
    op.add_column(
        "stage_history",
        sa.Column("reentered_at", sa.DateTime(timezone=True), nullable=True),
        schema="deals",
    )
    op.execute(
        """
        UPDATE deals.stage_history h SET reentered_at = n.reentered_at
          FROM (SELECT id, lead(entered_at) OVER (PARTITION BY deal_id, stage_id ORDER BY id)
                       AS reentered_at
                  FROM deals.stage_history) n
         WHERE n.id = h.id AND n.reentered_at IS NOT NULL
        """
    )
    op.add_column(
        "stage_history", sa.Column("responsible_id", sa.BigInteger(), nullable=True), schema="deals"
    )
    op.execute(
        "UPDATE deals.stage_history h SET responsible_id = d.responsible_id"
        "  FROM deals.deals d WHERE d.id = h.deal_id"
    )
    # What a report reads of a pass rides along in the indexes (index-only scans).
    for name, keys in (
        ("ix_stage_history_stage_entered", ["stage_id", "entered_at"]),
        ("ix_stage_history_responsible_entered", ["responsible_id", "stage_id", "entered_at"]),
    ):
        op.create_index(name, "stage_history", keys, schema="deals", postgresql_include=_INCLUDED)
    # Whatever changes a deal's responsible (a PATCH, an import, a hand-over), its history
    # rows follow in the same transaction: a manager's report reads them by responsible.
    op.execute(
        """
        CREATE FUNCTION deals.stage_history_follow_responsible() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE deals.stage_history SET responsible_id = NEW.responsible_id
           WHERE deal_id = NEW.id;
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER deals_responsible_to_history
        AFTER UPDATE OF responsible_id ON deals.deals FOR EACH ROW
        WHEN (OLD.responsible_id IS DISTINCT FROM NEW.responsible_id)
        EXECUTE FUNCTION deals.stage_history_follow_responsible()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER deals_responsible_to_history ON deals.deals")
    op.execute("DROP FUNCTION deals.stage_history_follow_responsible()")
    for name in ("ix_stage_history_responsible_entered", "ix_stage_history_stage_entered"):
        op.drop_index(name, table_name="stage_history", schema="deals")
    for column in ("responsible_id", "reentered_at", "next_stage_id"):
        op.drop_column("stage_history", column, schema="deals")
