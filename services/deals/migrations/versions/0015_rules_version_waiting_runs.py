"""what the worker's triggers need to skip two calls per move: a pipeline's rules version
(bumped, and the pipeline caches told, by every write of its rules) and a deal's or lead's
number of waiting automation runs (kept in step with the run log), both by triggers in the
writing transaction

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 04:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None
_WAITING = "('scheduled', 'waiting_leave')"  # services/deals/run_log.py WAITING


def upgrade() -> None:
    op.add_column(
        "pipelines",
        sa.Column("rules_version", sa.BigInteger(), nullable=False, server_default="0"),
        schema="deals",
    )
    for table in ("deals", "leads"):
        op.add_column(
            table,
            sa.Column("waiting_runs", sa.Integer(), nullable=False, server_default="0"),
            schema="deals",
        )
    # Every write of a pipeline's rules (a create, a change, an activation, a delete) bumps
    # its version and tells the deals processes' pipeline caches, in its own transaction.
    op.execute(
        """
        CREATE FUNCTION deals.stage_rules_bump_version() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP <> 'DELETE' THEN
            UPDATE deals.pipelines SET rules_version = rules_version + 1
             WHERE id = NEW.pipeline_id;
          END IF;
          IF TG_OP <> 'INSERT' AND (TG_OP = 'DELETE' OR OLD.pipeline_id <> NEW.pipeline_id) THEN
            UPDATE deals.pipelines SET rules_version = rules_version + 1
             WHERE id = OLD.pipeline_id;
          END IF;
          PERFORM pg_notify('deals_pipelines', '');
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER stage_rules_bump_version AFTER INSERT OR UPDATE OR DELETE"
        " ON deals.stage_rules FOR EACH ROW EXECUTE FUNCTION deals.stage_rules_bump_version()"
    )
    # A run entering or leaving a waiting status counts on its deal's (lead's) row: the
    # row a move locks, so a move reads the number after every run that waited before it.
    op.execute(
        f"""
        CREATE FUNCTION deals.automation_runs_count_waiting() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
          was boolean := TG_OP <> 'INSERT' AND OLD.status IN {_WAITING};
          waits boolean := TG_OP <> 'DELETE' AND NEW.status IN {_WAITING};
          step integer;
          deal bigint;
          lead bigint;
        BEGIN
          IF was = waits THEN
            RETURN NULL;
          END IF;
          step := CASE WHEN waits THEN 1 ELSE -1 END;
          IF waits THEN
            deal := NEW.deal_id; lead := NEW.lead_id;
          ELSE
            deal := OLD.deal_id; lead := OLD.lead_id;
          END IF;
          IF deal IS NOT NULL THEN
            UPDATE deals.deals SET waiting_runs = greatest(waiting_runs + step, 0)
             WHERE id = deal;
          ELSE
            UPDATE deals.leads SET waiting_runs = greatest(waiting_runs + step, 0)
             WHERE id = lead;
          END IF;
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER automation_runs_count_waiting"
        " AFTER INSERT OR UPDATE OF status OR DELETE ON deals.automation_runs"
        " FOR EACH ROW EXECUTE FUNCTION deals.automation_runs_count_waiting()"
    )
    # ALWAYS: bulk loads in replica sessions keep the numbers right too.
    op.execute("ALTER TABLE deals.stage_rules ENABLE ALWAYS TRIGGER stage_rules_bump_version")
    op.execute(
        "ALTER TABLE deals.automation_runs ENABLE ALWAYS TRIGGER automation_runs_count_waiting"
    )
    # The numbers so far, from the run log. The versions start from the clock, so a worker
    # that kept a pipeline's rules across a downgrade and this upgrade cannot take them for
    # the new ones.
    for table, column in (("deals", "deal_id"), ("leads", "lead_id")):
        op.execute(
            f"""
            UPDATE deals.{table} r SET waiting_runs = w.n
              FROM (SELECT {column} AS id, count(*) AS n FROM deals.automation_runs
                     WHERE {column} IS NOT NULL AND status IN {_WAITING} GROUP BY 1) w
             WHERE w.id = r.id
            """
        )
    op.execute("UPDATE deals.pipelines SET rules_version = extract(epoch FROM now())::bigint")


def downgrade() -> None:
    op.execute("DROP TRIGGER automation_runs_count_waiting ON deals.automation_runs")
    op.execute("DROP FUNCTION deals.automation_runs_count_waiting()")
    op.execute("DROP TRIGGER stage_rules_bump_version ON deals.stage_rules")
    op.execute("DROP FUNCTION deals.stage_rules_bump_version()")
    for table in ("leads", "deals"):
        op.drop_column(table, "waiting_runs", schema="deals")
    op.drop_column("pipelines", "rules_version", schema="deals")
