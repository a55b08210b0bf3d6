"""The deals schema's automation tables: rule versions, the run log, the company calendar
and the links between deals (a deal a rule created, and its source)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.deals.tables import deals, leads, metadata

# Every version of every rule, kept after the rule is deleted (the run log names them).
rule_versions = sa.Table(
    "rule_versions",
    metadata,
    sa.Column("rule_id", sa.BigInteger, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("pipeline_id", sa.BigInteger, nullable=False),
    sa.Column("definition", pg.JSONB, nullable=False),
    sa.Column("actor_id", sa.BigInteger),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# One row per firing of a rule on a deal or a lead (per workflow id = per event and rule):
# the condition's result and reason, the plan, and each action's result.
automation_runs = sa.Table(
    "automation_runs",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("workflow_id", sa.Text, nullable=False, unique=True),
    sa.Column("deal_id", sa.BigInteger, sa.ForeignKey(deals.c.id)),
    sa.Column("lead_id", sa.BigInteger, sa.ForeignKey(leads.c.id)),
    sa.Column("rule_id", sa.BigInteger, nullable=False),
    sa.Column("rule_version", sa.Integer, nullable=False),
    sa.Column("event_id", sa.Text, nullable=False),
    sa.Column("trigger", sa.Text, nullable=False),  # why it fired: `enter "Collect"`
    sa.Column("fired", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True)),
    sa.Column("plan", pg.JSONB, nullable=False),
    sa.Column("steps", pg.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_automation_runs_deal_created", "deal_id", "created_at"),
    sa.Index("ix_automation_runs_lead_created", "lead_id", "created_at"),
    sa.CheckConstraint(
        "(deal_id IS NULL) <> (lead_id IS NULL)", name="ck_automation_runs_one_record"
    ),
)

# The company calendar: one row (id 1).
company_calendar = sa.Table(
    "company_calendar",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("definition", pg.JSONB, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Links between deals, one row per direction (`created_from` on the new deal, `created`
# on its source); the key makes a retried create_deal action create one deal.
deal_links = sa.Table(
    "deal_links",
    metadata,
    sa.Column("deal_id", sa.BigInteger, sa.ForeignKey(deals.c.id), primary_key=True),
    sa.Column("linked_deal_id", sa.BigInteger, sa.ForeignKey(deals.c.id), primary_key=True),
    sa.Column("relation", sa.Text, nullable=False),
    sa.Column("idempotency_key", sa.Text, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
