"""The approvals schema: chain templates, requests with their rounds, step assignments and
decisions, and the contract registry."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.common.creations import creations_table
from services.common.db import inbox_table, outbox_table

SCHEMA = "approvals"
metadata = sa.MetaData(schema=SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
creations = creations_table(
    metadata
)  # Idempotency-Keys of creating calls (services/common/creations.py)


def _at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


templates = sa.Table(
    "templates",
    metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("definition", pg.JSONB, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    _at("created_at"),
    _at("updated_at"),
)

requests = sa.Table(
    "requests",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("deal_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("template_code", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    _at("created_at"),
    sa.Column("workflow_id", sa.Text),
    sa.Column("initiator_id", sa.BigInteger),
    sa.Column("title", sa.Text, nullable=False, server_default=""),
    sa.Column("current_round", sa.Integer, nullable=False, server_default="0"),
    sa.Column("current_step", sa.Text, nullable=False, server_default=""),
    sa.Column("contract_id", sa.BigInteger),
    _at("updated_at", nullable=True),
    sa.UniqueConstraint("workflow_id", name="uq_requests_workflow_id"),
)

rounds = sa.Table(
    "rounds",
    metadata,
    sa.Column("request_id", sa.BigInteger, sa.ForeignKey(requests.c.id), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("status", sa.Text, nullable=False),
    _at("started_at"),
    _at("closed_at", nullable=True),
)

assignments = sa.Table(
    "assignments",
    metadata,
    sa.Column("request_id", sa.BigInteger, sa.ForeignKey(requests.c.id), primary_key=True),
    sa.Column("round", sa.Integer, primary_key=True),
    sa.Column("step_code", sa.Text, primary_key=True),
    sa.Column("approver_id", sa.BigInteger, primary_key=True),
    sa.Column("step_index", sa.Integer, nullable=False),
    sa.Column("stand_in_id", sa.BigInteger),
    sa.Column("task_id", sa.Text, nullable=False, server_default=""),
    sa.Column("status", sa.Text, nullable=False),
    _at("due_at", nullable=True),
    sa.Index("ix_assignments_open_approver", "approver_id", postgresql_where="status = 'open'"),
    sa.Index("ix_assignments_open_stand_in", "stand_in_id", postgresql_where="status = 'open'"),
)

decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("request_id", sa.BigInteger, sa.ForeignKey(requests.c.id), nullable=False),
    sa.Column("deal_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("round", sa.Integer, nullable=False),
    sa.Column("step_code", sa.Text, nullable=False),
    sa.Column("approver_id", sa.BigInteger),
    sa.Column("actor_id", sa.BigInteger),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("comment", sa.Text, nullable=False, server_default=""),
    sa.Column("fields_before", pg.JSONB, nullable=False),
    sa.Column("fields_after", pg.JSONB, nullable=False),
    sa.Column("file_ids", pg.JSONB, nullable=False),
    sa.Column("task_id", sa.Text, nullable=False, server_default=""),
    _at("decided_at"),
    sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
    sa.Index("ix_decisions_request", "request_id", "id"),
)

contract_types = sa.Table(
    "contract_types",
    metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("template_code", sa.Text, nullable=False, server_default=""),
)

contracts = sa.Table(
    "contracts",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("deal_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("type_code", sa.Text, sa.ForeignKey(contract_types.c.code), nullable=False),
    sa.Column("counterparty_kind", sa.Text, nullable=False),
    sa.Column("counterparty_name", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False, server_default=""),
    sa.Column("number", sa.Text, nullable=False, server_default=""),
    sa.Column("amount", sa.Numeric(20, 2)),
    sa.Column("currency", sa.Text, nullable=False, server_default=""),
    sa.Column("starts_on", sa.Date),
    sa.Column("ends_on", sa.Date),
    sa.Column("status", sa.Text, nullable=False, index=True),
    sa.Column("manager_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("request_id", sa.BigInteger),
    _at("created_at"),
    _at("updated_at"),
)

contract_documents = sa.Table(
    "contract_documents",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("contract_id", sa.BigInteger, sa.ForeignKey(contracts.c.id), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("file_id", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("uploaded_by", sa.BigInteger),
    _at("created_at"),
    sa.UniqueConstraint("contract_id", "version", name="uq_contract_documents_version"),
)
