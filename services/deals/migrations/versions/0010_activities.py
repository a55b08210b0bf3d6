"""activities (calls, e-mails, meetings on a deal, lead or contact) and reminder plans

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-01 22:30:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _ref(name: str, target: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.BigInteger(), sa.ForeignKey(target))


def upgrade() -> None:
    op.create_table(
        "reminder_plans",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        _ref("deal_id", "deals.deals.id"),
        _ref("contact_id", "deals.contacts.id"),
        sa.Column(
            "responsible_id", sa.BigInteger(), sa.ForeignKey("deals.users.id"), nullable=False
        ),
        sa.Column("needs", pg.JSONB(), nullable=False),
        sa.Column("frequencies", pg.JSONB(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.Text(), unique=True),
        sa.CheckConstraint("(deal_id IS NULL) <> (contact_id IS NULL)", name="ck_plans_one_record"),
        schema="deals",
    )
    op.create_index("ix_reminder_plans_deal", "reminder_plans", ["deal_id"], schema="deals")
    op.create_index("ix_reminder_plans_contact", "reminder_plans", ["contact_id"], schema="deals")
    op.create_table(
        "activities",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        _ref("deal_id", "deals.deals.id"),
        _ref("lead_id", "deals.leads.id"),
        _ref("contact_id", "deals.contacts.id"),
        sa.Column("assignee_id", sa.BigInteger(), sa.ForeignKey("deals.users.id"), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True)),
        sa.Column("done_at", sa.DateTime(timezone=True)),
        sa.Column("subject", sa.Text(), nullable=False, server_default=""),
        sa.Column("outcome", sa.Text(), nullable=False, server_default=""),
        sa.Column("notes", sa.Text(), nullable=False, server_default=""),
        _ref("plan_id", "deals.reminder_plans.id"),
        sa.Column("created_by", sa.BigInteger()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.Text(), unique=True),
        sa.CheckConstraint(
            "(deal_id IS NOT NULL)::int + (lead_id IS NOT NULL)::int"
            " + (contact_id IS NOT NULL)::int = 1",
            name="ck_activities_one_record",
        ),
        schema="deals",
    )
    for name, columns in (
        ("ix_activities_deal", ["deal_id", "status", "due_at"]),
        ("ix_activities_lead", ["lead_id", "status", "due_at"]),
        ("ix_activities_contact", ["contact_id", "status", "due_at"]),
        ("ix_activities_assignee", ["assignee_id", "status", "due_at"]),
        ("ix_activities_plan", ["plan_id", "kind", "status"]),
    ):
        op.create_index(name, "activities", columns, schema="deals")


def downgrade() -> None:
    op.drop_table("activities", schema="deals")
    op.drop_table("reminder_plans", schema="deals")
