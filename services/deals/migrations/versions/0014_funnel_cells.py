"""funnel cells: the funnel's counts kept from the stage history, so that a report reads a
cell per day, stage and outcome instead of every pass

Each pass of the stage history counts in one *pass cell* (its stage, responsible, the UTC
day it began, the UTC day the deal entered the stage again, where it led, the deal's
currency: passes, passes with an amount, the sum of the amounts) and, once it has ended,
in one *duration cell* (stage, responsible, day it began, the bucket of its duration: 16
buckets per doubling). Triggers on the history and on the deals' money write every change
as signed rows into the `*_changes` tables (append-only: concurrent moves never wait for
one another); `deals.fold_funnel_changes()` moves them into the folded cells, per
responsible and for everyone. A report sums folded cells and unfolded changes in one
snapshot, so it is exact whenever it is read. The history rows get their duration (in
seconds) and its bucket as stored columns, indexed, so the exact median of a period reads
only the passes of one bucket.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 01:40:00
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_SECONDS = "extract(epoch FROM left_at - entered_at)"
_PASS_KEY = "stage_id, responsible_id, entered_on, reentered_on, next_stage_id, currency"
_DURATION_KEY = "stage_id, responsible_id, entered_on, bucket"
# (changes, folded per responsible, folded for everyone)
_PASS_CELLS = ("funnel_pass_changes", "funnel_passes", "funnel_passes_all")
_DURATION_CELLS = ("funnel_duration_changes", "funnel_durations", "funnel_durations_all")

# What the rows of a transition table (`rows`, signed by `sign`) add to the pass cells and
# to the duration cells.
_PASS_ROWS = """
SELECT h.stage_id, h.responsible_id, (h.entered_at AT TIME ZONE 'UTC')::date AS entered_on,
       (h.reentered_at AT TIME ZONE 'UTC')::date AS reentered_on, h.next_stage_id,
       d.currency, {sign} AS passes, {sign} * (d.amount IS NOT NULL)::int AS priced,
       {sign} * coalesce(d.amount, 0) AS amount
  FROM {rows} h JOIN deals.deals d ON d.id = h.deal_id
"""
_DURATION_ROWS = """
SELECT stage_id, responsible_id, (entered_at AT TIME ZONE 'UTC')::date AS entered_on,
       duration_bucket AS bucket, {sign} AS passes
  FROM {rows} WHERE duration_bucket IS NOT NULL
"""

# What a deal's money change (OLD and NEW of the deal) does to the cells of its passes.
_MONEY_ROWS = """
SELECT h.stage_id, h.responsible_id, (h.entered_at AT TIME ZONE 'UTC')::date AS entered_on,
       (h.reentered_at AT TIME ZONE 'UTC')::date AS reentered_on, h.next_stage_id,
       m.currency, m.sign AS passes, m.sign * (m.amount IS NOT NULL)::int AS priced,
       m.sign * coalesce(m.amount, 0) AS amount
  FROM deals.stage_history h
 CROSS JOIN (VALUES (-1, OLD.currency, OLD.amount), (1, NEW.currency, NEW.amount))
         AS m (sign, currency, amount)
 WHERE h.deal_id = NEW.id
"""


def _net(rows: str, key: str, table: str, sums: str, having: str) -> str:
    """INSERT of the net change per cell of signed rows."""
    return (
        f"INSERT INTO deals.{table} SELECT {key}, {sums} FROM ({rows}) c"
        f" GROUP BY {key} HAVING {having}"
    )


_PASS_SUMS = "sum(passes), sum(priced), sum(amount)"
_PASS_NONZERO = "sum(passes) <> 0 OR sum(priced) <> 0 OR sum(amount) <> 0"


def _changes(old: str | None, new: str | None) -> str:
    """The trigger body's statements for the old rows (taken away) and the new (added)."""
    parts: dict[str, list[str]] = {"pass": [], "duration": []}
    for rows, sign in ((old, "-1"), (new, "1")):
        if rows:
            parts["pass"].append(_PASS_ROWS.format(rows=rows, sign=sign))
            parts["duration"].append(_DURATION_ROWS.format(rows=rows, sign=sign))
    return ";\n".join(
        [
            _net(" UNION ALL ".join(parts["pass"]), _PASS_KEY, "funnel_pass_changes",
                 _PASS_SUMS, _PASS_NONZERO),
            _net(" UNION ALL ".join(parts["duration"]), _DURATION_KEY, "funnel_duration_changes",
                 "sum(passes)", "sum(passes) <> 0"),
        ]
    )  # fmt: skip


def _fold(cells: tuple[str, str, str], key: str, sums: list[str]) -> str:
    """One statement: take every change, add it to its cell per responsible and for
    everyone (ordered, so two folds never deadlock; the fold also holds a lock)."""
    changes, mine, everyone = cells
    total = ", ".join(f"sum({s}) AS {s}" for s in sums)
    add = ", ".join(f"{s} = f.{s} + excluded.{s}" for s in sums)
    shared = key.replace("responsible_id, ", "")
    return f"""
    WITH taken AS (DELETE FROM deals.{changes} RETURNING *),
    net AS (SELECT {key}, {total} FROM taken GROUP BY {key}),
    per_responsible AS (
      INSERT INTO deals.{mine} AS f SELECT * FROM net ORDER BY {key}
      ON CONFLICT ({key}) DO UPDATE SET {add}
    ),
    for_everyone AS (
      INSERT INTO deals.{everyone} AS f
      SELECT {shared}, {total} FROM net GROUP BY {shared} ORDER BY {shared}
      ON CONFLICT ({shared}) DO UPDATE SET {add}
    )
    SELECT count(*) FROM net
    """


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION deals.duration_bucket(seconds numeric) RETURNS smallint
        IMMUTABLE STRICT PARALLEL SAFE LANGUAGE sql
        RETURN floor(ln(greatest(seconds, 0)::float8 + 1) / ln(2::float8) * 16)::smallint
        """
    )
    op.execute(
        f"""
        ALTER TABLE deals.stage_history
          ADD COLUMN seconds numeric GENERATED ALWAYS AS ({_SECONDS}) STORED,
          ADD COLUMN duration_bucket smallint
              GENERATED ALWAYS AS (deals.duration_bucket({_SECONDS})) STORED
        """
    )
    op.execute(
        "CREATE INDEX ix_stage_history_stage_duration ON deals.stage_history"
        " (stage_id, duration_bucket, seconds) INCLUDE (entered_at, responsible_id)"
        " WHERE duration_bucket IS NOT NULL"
    )
    op.execute(
        "CREATE INDEX ix_stage_history_responsible_duration ON deals.stage_history"
        " (responsible_id, stage_id, duration_bucket, seconds) INCLUDE (entered_at)"
        " WHERE duration_bucket IS NOT NULL"
    )
    pass_columns = """
        stage_id bigint NOT NULL, responsible_id bigint, entered_on date NOT NULL,
        reentered_on date, next_stage_id bigint, currency text NOT NULL,
        passes bigint NOT NULL, priced bigint NOT NULL, amount numeric NOT NULL
    """
    duration_columns = """
        stage_id bigint NOT NULL, responsible_id bigint, entered_on date NOT NULL,
        bucket smallint NOT NULL, passes bigint NOT NULL
    """
    for cells, columns, key in (
        (_PASS_CELLS, pass_columns, _PASS_KEY),
        (_DURATION_CELLS, duration_columns, _DURATION_KEY),
    ):
        changes, mine, everyone = cells
        op.execute(f"CREATE TABLE deals.{changes} ({columns})")
        op.execute(f"CREATE TABLE deals.{mine} ({columns})")
        op.execute(
            f"CREATE UNIQUE INDEX ux_{mine} ON deals.{mine}"
            f" ({key.replace('stage_id, responsible_id', 'responsible_id, stage_id')})"
            " NULLS NOT DISTINCT"
        )
        op.execute(f"CREATE TABLE deals.{everyone} ({columns})")
        op.execute(f"ALTER TABLE deals.{everyone} DROP COLUMN responsible_id")
        op.execute(
            f"CREATE UNIQUE INDEX ux_{everyone} ON deals.{everyone}"
            f" ({key.replace('responsible_id, ', '')}) NULLS NOT DISTINCT"
        )
    for op_name, old, new, referencing in (
        ("INSERT", None, "new_rows", "NEW TABLE AS new_rows"),
        ("UPDATE", "old_rows", "new_rows", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "old_rows", None, "OLD TABLE AS old_rows"),
    ):
        name = f"funnel_changes_on_history_{op_name.lower()}"
        op.execute(
            f"""
            CREATE FUNCTION deals.{name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              {_changes(old, new)};
              RETURN NULL;
            END $$
            """
        )
        # ALWAYS: bulk loads that switch the foreign-key triggers off (replica sessions)
        # still count in the reports.
        op.execute(
            f"CREATE TRIGGER {name} AFTER {op_name} ON deals.stage_history"
            f" REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION deals.{name}()"
        )
        op.execute(f"ALTER TABLE deals.stage_history ENABLE ALWAYS TRIGGER {name}")
    # A deal's amount or currency changing moves all its passes to their new sums.
    op.execute(
        f"""
        CREATE FUNCTION deals.funnel_changes_on_money() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          {_net(_MONEY_ROWS, _PASS_KEY, "funnel_pass_changes", _PASS_SUMS, _PASS_NONZERO)};
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER funnel_changes_on_money
        AFTER UPDATE OF amount, currency ON deals.deals FOR EACH ROW
        WHEN (OLD.amount IS DISTINCT FROM NEW.amount OR OLD.currency IS DISTINCT FROM NEW.currency)
        EXECUTE FUNCTION deals.funnel_changes_on_money()
        """
    )
    op.execute("ALTER TABLE deals.deals ENABLE ALWAYS TRIGGER funnel_changes_on_money")
    op.execute(
        f"""
        CREATE FUNCTION deals.fold_funnel_changes() RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE folded_passes bigint; folded_durations bigint;
        BEGIN
          IF NOT pg_try_advisory_xact_lock(hashtext('deals.fold_funnel_changes')) THEN
            RETURN 0;  -- another fold is running
          END IF;
          {_fold(_PASS_CELLS, _PASS_KEY, ["passes", "priced", "amount"])} INTO folded_passes;
          {_fold(_DURATION_CELLS, _DURATION_KEY, ["passes"])} INTO folded_durations;
          RETURN folded_passes + folded_durations;
        END $$
        """
    )  # fmt: skip
    # The history so far, counted once as the triggers would have.
    op.execute(_changes(None, "deals.stage_history"))
    op.execute("SELECT deals.fold_funnel_changes()")


def downgrade() -> None:
    op.execute("DROP FUNCTION deals.fold_funnel_changes()")
    op.execute("DROP TRIGGER funnel_changes_on_money ON deals.deals")
    op.execute("DROP FUNCTION deals.funnel_changes_on_money()")
    for op_name in ("insert", "update", "delete"):
        name = f"funnel_changes_on_history_{op_name}"
        op.execute(f"DROP TRIGGER {name} ON deals.stage_history")
        op.execute(f"DROP FUNCTION deals.{name}()")
    for table in (*_PASS_CELLS, *_DURATION_CELLS):
        op.execute(f"DROP TABLE deals.{table}")
    op.execute("DROP INDEX deals.ix_stage_history_responsible_duration")
    op.execute("DROP INDEX deals.ix_stage_history_stage_duration")
    op.execute("ALTER TABLE deals.stage_history DROP COLUMN duration_bucket, DROP COLUMN seconds")
    op.execute("DROP FUNCTION deals.duration_bucket(numeric)")
