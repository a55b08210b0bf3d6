"""The deals schema's activity tables: calls, e-mails and meetings on a deal, a lead or a
contact (planned or done), and the reminder plans that create them on schedule (SN-3)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.deals.tables import contacts, deals, leads, metadata, users

# One reminder plan per client (a contact) or per deal: the needs list and a frequency
# per channel ({"calls": {"count": 2, "per": "month"}}); active until stopped.
reminder_plans = sa.Table(
    "reminder_plans",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("deal_id", sa.BigInteger, sa.ForeignKey(deals.c.id)),
    sa.Column("contact_id", sa.BigInteger, sa.ForeignKey(contacts.c.id)),
    sa.Column("responsible_id", sa.BigInteger, sa.ForeignKey(users.c.id), nullable=False),
    sa.Column("needs", pg.JSONB, nullable=False),
    sa.Column("frequencies", pg.JSONB, nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # active | stopped
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("idempotency_key", sa.Text, unique=True),
    sa.CheckConstraint("(deal_id IS NULL) <> (contact_id IS NULL)", name="ck_plans_one_record"),
    sa.Index("ix_reminder_plans_deal", "deal_id"),
    sa.Index("ix_reminder_plans_contact", "contact_id"),
)

activities = sa.Table(
    "activities",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),  # call | email | meeting
    sa.Column("status", sa.Text, nullable=False),  # planned | done
    sa.Column("deal_id", sa.BigInteger, sa.ForeignKey(deals.c.id)),
    sa.Column("lead_id", sa.BigInteger, sa.ForeignKey(leads.c.id)),
    sa.Column("contact_id", sa.BigInteger, sa.ForeignKey(contacts.c.id)),
    sa.Column("assignee_id", sa.BigInteger, sa.ForeignKey(users.c.id), nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True)),
    sa.Column("done_at", sa.DateTime(timezone=True)),
    sa.Column("subject", sa.Text, nullable=False, server_default=""),
    sa.Column("outcome", sa.Text, nullable=False, server_default=""),
    sa.Column("notes", sa.Text, nullable=False, server_default=""),
    sa.Column("plan_id", sa.BigInteger, sa.ForeignKey(reminder_plans.c.id)),
    sa.Column("created_by", sa.BigInteger),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("idempotency_key", sa.Text, unique=True),
    sa.CheckConstraint(
        "(deal_id IS NOT NULL)::int + (lead_id IS NOT NULL)::int"
        " + (contact_id IS NOT NULL)::int = 1",
        name="ck_activities_one_record",
    ),
    sa.Index("ix_activities_deal", "deal_id", "status", "due_at"),
    sa.Index("ix_activities_lead", "lead_id", "status", "due_at"),
    sa.Index("ix_activities_contact", "contact_id", "status", "due_at"),
    sa.Index("ix_activities_assignee", "assignee_id", "status", "due_at"),
    sa.Index("ix_activities_plan", "plan_id", "kind", "status"),
)
