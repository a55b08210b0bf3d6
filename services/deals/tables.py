"""The deals schema: pipelines, fields, stage rules, deals, their history and timeline, org,
lists."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.common.creations import creations_table
from services.common.db import inbox_table, outbox_table

SCHEMA = "deals"
metadata = sa.MetaData(schema=SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
creations = creations_table(
    metadata
)  # Idempotency-Keys of creating calls (services/common/creations.py)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True)


def _created_at() -> sa.Column[datetime]:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


pipelines = sa.Table(
    "pipelines",
    metadata,
    _id(),
    sa.Column("name", sa.Text, nullable=False),
    _created_at(),
    # deal | lead: a lead funnel's stages may also be `spam`
    sa.Column("kind", sa.Text, nullable=False, server_default="deal"),
    # Bumped by every write of the pipeline's rules (a trigger, migration 0015): the worker
    # keeps a pipeline's active rules under it.
    sa.Column("rules_version", sa.BigInteger, nullable=False, server_default="0"),
)

stages = sa.Table(
    "stages",
    metadata,
    _id(),
    sa.Column("pipeline_id", sa.BigInteger, sa.ForeignKey(pipelines.c.id), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("semantic", sa.Text, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Index("ix_stages_pipeline_position", "pipeline_id", "position"),
)

field_definitions = sa.Table(
    "field_definitions",
    metadata,
    _id(),
    sa.Column("pipeline_id", sa.BigInteger, sa.ForeignKey(pipelines.c.id), nullable=False),
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("required_on_stages", pg.ARRAY(sa.BigInteger), nullable=False),
    sa.Column("options", pg.ARRAY(sa.Text), nullable=False),
    sa.Column("list_code", sa.Text, nullable=False, server_default=""),
    _created_at(),
    # A computed field's formula, a money field's own currency, stages it must be filled
    # to leave (automation rules, migration 0005).
    sa.Column("formula", sa.Text, nullable=False, server_default=""),
    sa.Column("currency", sa.Text, nullable=False, server_default=""),
    sa.Column("required_to_leave", pg.ARRAY(sa.BigInteger), nullable=False, server_default="{}"),
    sa.UniqueConstraint("pipeline_id", "code", name="uq_field_definitions_pipeline_code"),
)

# Automation rules of a pipeline (services/deals/domain/rules.py): the current version's
# definition; `stage_id` copies trigger.stage_id for look-ups. Versions: automation_tables.
stage_rules = sa.Table(
    "stage_rules",
    metadata,
    _id(),
    sa.Column("pipeline_id", sa.BigInteger, sa.ForeignKey(pipelines.c.id), nullable=False),
    sa.Column("stage_id", sa.BigInteger, sa.ForeignKey(stages.c.id)),
    sa.Column("definition", pg.JSONB, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    _created_at(),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.Index("ix_stage_rules_pipeline_stage", "pipeline_id", "stage_id"),
)

departments = sa.Table(
    "departments",
    metadata,
    _id(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("parent_id", sa.BigInteger, sa.ForeignKey("departments.id")),
    # users and departments point at each other; this key is added after both exist.
    sa.Column(
        "head_id",
        sa.BigInteger,
        sa.ForeignKey("users.id", use_alter=True, name="fk_departments_head_id_users"),
    ),
    _created_at(),
)

users = sa.Table(
    "users",
    metadata,
    _id(),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("roles", pg.ARRAY(sa.Text), nullable=False),
    sa.Column("department_id", sa.BigInteger, sa.ForeignKey(departments.c.id)),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    _created_at(),
    sa.Column("absent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column(
        "substitute_id",
        sa.BigInteger,
        sa.ForeignKey("users.id", name="fk_users_substitute_id_users"),
    ),
)
sa.Index("uq_users_email_lower", sa.func.lower(users.c.email), unique=True)
sa.Index("ix_users_department", users.c.department_id)

roles = sa.Table(
    "roles",
    metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("visibility", sa.Text, nullable=False),
    sa.Column("permissions", pg.ARRAY(sa.Text), nullable=False),
    _created_at(),
)

role_pipeline_access = sa.Table(
    "role_pipeline_access",
    metadata,
    sa.Column(
        "role_code",
        sa.Text,
        sa.ForeignKey(roles.c.code, ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("pipeline_id", sa.BigInteger, sa.ForeignKey(pipelines.c.id), primary_key=True),
    sa.Column("visibility", sa.Text, nullable=False),
    sa.Column("move_to_stage_ids", pg.ARRAY(sa.BigInteger), nullable=False),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey(users.c.id), nullable=False),
    sa.Column("refresh_hash", sa.Text, nullable=False, unique=True),
    _created_at(),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Index("ix_sessions_user", "user_id"),
)

# A rotated refresh token stays here so that its reuse (a stolen copy) ends the session.
used_refresh_tokens = sa.Table(
    "used_refresh_tokens",
    metadata,
    sa.Column("refresh_hash", sa.Text, primary_key=True),
    sa.Column("session_id", sa.Text, sa.ForeignKey(sessions.c.id), nullable=False),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    _id(),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey(users.c.id), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("scopes", pg.ARRAY(sa.Text), nullable=False),
    sa.Column("token_hash", sa.Text, nullable=False, unique=True),
    _created_at(),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
    sa.Index("ix_api_tokens_user", "user_id"),
)

login_failures = sa.Table(
    "login_failures",
    metadata,
    _id(),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("client_address", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_login_failures_email", "email", "at"),
    sa.Index("ix_login_failures_address", "client_address", "at"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    _id(),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor_id", sa.BigInteger),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("subject_type", sa.Text, nullable=False),
    sa.Column("subject_id", sa.Text, nullable=False),
    sa.Column("before", pg.JSONB),
    sa.Column("after", pg.JSONB),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("client_address", sa.Text, nullable=False, server_default=""),
    # events from other services land here once, however often they are delivered
    sa.Column("event_id", sa.Text, unique=True),
    sa.Index("ix_audit_log_actor", "actor_id", "id"),
    sa.Index("ix_audit_log_action", "action", "id"),
    sa.Index("ix_audit_log_subject", "subject_type", "subject_id", "id"),
)

deals = sa.Table(
    "deals",
    metadata,
    _id(),
    sa.Column("pipeline_id", sa.BigInteger, sa.ForeignKey(pipelines.c.id), nullable=False),
    sa.Column("stage_id", sa.BigInteger, sa.ForeignKey(stages.c.id), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("responsible_id", sa.BigInteger, sa.ForeignKey(users.c.id), nullable=False),
    sa.Column("amount", sa.Numeric),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("company_name", sa.Text, nullable=False, server_default=""),
    sa.Column("contact_name", sa.Text, nullable=False, server_default=""),
    sa.Column("fields", pg.JSONB, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    _created_at(),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("stage_entered_at", sa.DateTime(timezone=True), nullable=False),
    # Its runs in the run log that wait (`run_log.WAITING`), kept by a trigger on the run
    # log (migration 0015); never written by the deal's own saves.
    sa.Column("waiting_runs", sa.Integer, nullable=False, server_default="0"),
)
sa.Index(
    "ix_deals_board",
    deals.c.pipeline_id,
    deals.c.stage_id,
    deals.c.responsible_id,
    deals.c.id.desc(),
)
sa.Index("ix_deals_responsible", deals.c.responsible_id, deals.c.id)

stage_history = sa.Table(
    "stage_history",
    metadata,
    _id(),
    sa.Column("deal_id", sa.BigInteger, sa.ForeignKey(deals.c.id), nullable=False),
    sa.Column("stage_id", sa.BigInteger, sa.ForeignKey(stages.c.id), nullable=False),
    sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("left_at", sa.DateTime(timezone=True)),
    sa.Column("actor_id", sa.BigInteger),
    # the stage the visit led to, set as it ends (migration 0012): the funnel's outcome
    sa.Column("next_stage_id", sa.BigInteger),
    # the deal's responsible, kept in step with the deal by a trigger (migration 0012): a
    # manager's report reads the manager's rows by the index below
    sa.Column("responsible_id", sa.BigInteger),
    # when the deal entered this stage again (set by that entry): a pass is the deal's last
    # of a period through the stage when this is unset or after the period
    sa.Column("reentered_at", sa.DateTime(timezone=True)),
    # the visit's length once it ended, and its bucket (migration 0014): the funnel's
    # median reads only the visits of one bucket (services/deals/funnel_cells.py)
    sa.Column("seconds", sa.Numeric, sa.Computed("extract(epoch FROM left_at - entered_at)")),
    sa.Column(
        "duration_bucket",
        sa.SmallInteger,
        sa.Computed("deals.duration_bucket(extract(epoch FROM left_at - entered_at))"),
    ),
    sa.Index("ix_stage_history_deal", "deal_id", "id"),
    sa.Index("ix_stage_history_stage_entered", "stage_id", "entered_at"),
    sa.Index("ix_stage_history_responsible_entered", "responsible_id", "stage_id", "entered_at"),
)

timeline = sa.Table(
    "timeline",
    metadata,
    _id(),
    sa.Column("deal_id", sa.BigInteger, sa.ForeignKey(deals.c.id), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False, server_default=""),
    sa.Column("actor_id", sa.BigInteger),
    sa.Column("data", pg.JSONB, nullable=False),
    _created_at(),
    sa.Column("idempotency_key", sa.Text, unique=True),
    sa.Index("ix_timeline_deal", "deal_id", "id"),
    # The proposals report (SM-1) reads a period's proposal entries across deals.
    sa.Index(
        "ix_timeline_proposals",
        "created_at",
        postgresql_where=sa.text(
            "kind IN ('proposal.sent', 'proposal.agreed', 'proposal.refused')"
        ),
    ),
)

lists = sa.Table(
    "lists",
    metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("columns", pg.JSONB, nullable=False),
    _created_at(),
)

list_items = sa.Table(
    "list_items",
    metadata,
    _id(),
    sa.Column("list_code", sa.Text, sa.ForeignKey(lists.c.code), nullable=False),
    sa.Column("values", pg.JSONB, nullable=False),
    _created_at(),
    sa.Index("ix_list_items_list", "list_code", "id"),
)

# ---- files (FilesService): metadata of blobs kept in the blob store ----
files = sa.Table(
    "files",
    metadata,
    _id(),
    # a file of a deal, or of a lead (mail attachments; moved to the deal on conversion)
    sa.Column("deal_id", sa.BigInteger, sa.ForeignKey(deals.c.id), index=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("storage_key", sa.Text, nullable=False, unique=True),
    sa.Column("uploaded_by", sa.BigInteger),
    _created_at(),
    sa.Column(
        "lead_id",
        sa.BigInteger,
        sa.ForeignKey("leads.id", name="fk_files_lead_id_leads"),
        index=True,
    ),
    # The deal folder the file lies in (None: the deal's root folder; a lead's file).
    sa.Column("folder_id", sa.BigInteger, sa.ForeignKey("folders.id"), index=True),
)

# A deal's folder tree: one root (parent None) made with the deal, sub-folders under it.
folders = sa.Table(
    "folders",
    metadata,
    _id(),
    sa.Column("deal_id", sa.BigInteger, sa.ForeignKey(deals.c.id), nullable=False, index=True),
    sa.Column("parent_id", sa.BigInteger, sa.ForeignKey("folders.id")),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_by", sa.BigInteger),
    _created_at(),
    sa.UniqueConstraint("deal_id", "parent_id", "name", name="uq_folders_name_in_parent"),
    sa.Index(
        "uq_folders_one_root",
        "deal_id",
        unique=True,
        postgresql_where=sa.text("parent_id IS NULL"),
    ),
)

file_attachments = sa.Table(
    "file_attachments",
    metadata,
    sa.Column("file_id", sa.BigInteger, sa.ForeignKey(files.c.id), primary_key=True),
    sa.Column("kind", sa.Text, primary_key=True),  # deal | task | decision | contract
    sa.Column("target_id", sa.Text, primary_key=True),
    sa.Index("ix_file_attachments_target", "kind", "target_id"),
)

# ---- contacts, companies, leads, exclusions, mail intake (services/deals/crm_*.py) ----
companies = sa.Table(
    "companies",
    metadata,
    _id(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("registration_ids", pg.JSONB, nullable=False),  # {"inn": ..., "ogrn": ...}
    sa.Column("addresses", pg.ARRAY(sa.Text), nullable=False),
    sa.Column("responsible_id", sa.BigInteger, sa.ForeignKey(users.c.id), nullable=False),
    sa.Column("fields", pg.JSONB, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    _created_at(),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# E-mails and phones are kept normalised (services/deals/domain/contacts.py), so equality
# (`&&` on the GIN indexes) finds duplicates and searches.
contacts = sa.Table(
    "contacts",
    metadata,
    _id(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("emails", pg.ARRAY(sa.Text), nullable=False),
    sa.Column("phones", pg.ARRAY(sa.Text), nullable=False),
    sa.Column("company_id", sa.BigInteger, sa.ForeignKey(companies.c.id)),
    sa.Column("position", sa.Text, nullable=False, server_default=""),
    sa.Column("responsible_id", sa.BigInteger, sa.ForeignKey(users.c.id), nullable=False),
    sa.Column("fields", pg.JSONB, nullable=False),
    sa.Column("merged_into_id", sa.BigInteger, sa.ForeignKey("contacts.id")),
    sa.Column("version", sa.BigInteger, nullable=False),
    _created_at(),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index("ix_contacts_emails", contacts.c.emails, postgresql_using="gin")
sa.Index("ix_contacts_phones", contacts.c.phones, postgresql_using="gin")

leads = sa.Table(
    "leads",
    metadata,
    _id(),
    sa.Column("pipeline_id", sa.BigInteger, sa.ForeignKey(pipelines.c.id), nullable=False),
    sa.Column("stage_id", sa.BigInteger, sa.ForeignKey(stages.c.id), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False, server_default=""),
    sa.Column("contact_id", sa.BigInteger, sa.ForeignKey(contacts.c.id)),
    sa.Column("company_id", sa.BigInteger, sa.ForeignKey(companies.c.id)),
    sa.Column("responsible_id", sa.BigInteger, sa.ForeignKey(users.c.id), nullable=False),
    sa.Column("fields", pg.JSONB, nullable=False),
    sa.Column("deal_id", sa.BigInteger, sa.ForeignKey(deals.c.id)),  # set once converted
    sa.Column("version", sa.BigInteger, nullable=False),
    _created_at(),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("stage_entered_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("waiting_runs", sa.Integer, nullable=False, server_default="0"),  # as a deal's
)
sa.Index("ix_leads_board", leads.c.pipeline_id, leads.c.stage_id, leads.c.id.desc())
sa.Index("ix_leads_contact", leads.c.contact_id)

lead_timeline = sa.Table(
    "lead_timeline",
    metadata,
    _id(),
    sa.Column("lead_id", sa.BigInteger, sa.ForeignKey(leads.c.id), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False, server_default=""),
    sa.Column("actor_id", sa.BigInteger),
    sa.Column("data", pg.JSONB, nullable=False),
    _created_at(),
    sa.Index("ix_lead_timeline_lead", "lead_id", "id"),
)

# A deal's contacts, its company and the lead it came from.
deal_parties = sa.Table(
    "deal_parties",
    metadata,
    sa.Column("deal_id", sa.BigInteger, sa.ForeignKey(deals.c.id), primary_key=True),
    sa.Column("kind", sa.Text, primary_key=True),  # contact | company | lead
    sa.Column("target_id", sa.BigInteger, primary_key=True),
    sa.Index("ix_deal_parties_target", "kind", "target_id"),
)

exclusions = sa.Table(
    "exclusions",
    metadata,
    _id(),
    sa.Column("kind", sa.Text, nullable=False),  # email | phone | domain
    sa.Column("value", sa.Text, nullable=False),  # normalised
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("lead_id", sa.BigInteger),
    sa.Column("actor_id", sa.BigInteger),
    _created_at(),
    sa.UniqueConstraint("kind", "value", name="uq_exclusions_kind_value"),
)

intake_messages = sa.Table(
    "intake_messages",
    metadata,
    _id(),
    sa.Column("message_id", sa.Text, nullable=False, unique=True),
    sa.Column("sender", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),  # lead_created | attached | excluded
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("lead_id", sa.BigInteger, sa.ForeignKey(leads.c.id)),
    sa.Column("deal_id", sa.BigInteger, sa.ForeignKey(deals.c.id)),
    sa.Column("contact_id", sa.BigInteger, sa.ForeignKey(contacts.c.id)),
    sa.Column("file_ids", pg.ARRAY(sa.BigInteger), nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)

intake_settings = sa.Table(
    "intake_settings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),  # one row, id 1
    sa.Column("pipeline_id", sa.BigInteger, sa.ForeignKey(pipelines.c.id)),
    sa.Column("responsible_id", sa.BigInteger, sa.ForeignKey(users.c.id)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Records an import made, by the external id of their row: importing again updates them.
import_keys = sa.Table(
    "import_keys",
    metadata,
    sa.Column("kind", sa.Text, primary_key=True),  # contacts | companies | leads | deals
    sa.Column("external_id", sa.Text, primary_key=True),
    sa.Column("record_id", sa.BigInteger, nullable=False),
)

# Custom field definitions of contacts and companies (deals and leads have theirs per pipeline).
record_fields = sa.Table(
    "record_fields",
    metadata,
    _id(),
    sa.Column("entity", sa.Text, nullable=False),  # contact | company
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("options", pg.ARRAY(sa.Text), nullable=False),
    sa.Column("list_code", sa.Text, nullable=False, server_default=""),
    _created_at(),
    sa.UniqueConstraint("entity", "code", name="uq_record_fields_entity_code"),
)
