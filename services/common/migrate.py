"""Runs every service's Alembic migrations, each in its own schema.

`python -m services.common.migrate` (the `migrate` component) upgrades all services;
each service's `migrations/env.py` calls `run_env` with its metadata and schema.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from alembic.script import ScriptDirectory

from services.common.logging import configure_logging
from services.common.settings import CommonSettings

log = logging.getLogger(__name__)

SERVICES = ("deals", "notifications", "approvals", "finance", "gateway")
ROOT = Path(__file__).resolve().parents[1]


def alembic_config(service: str, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    cfg.attributes["schema"] = service
    # Generated revisions come out formatted and with sorted imports.
    cfg.set_section_option("post_write_hooks", "hooks", "ruff_fix, ruff_format")
    for hook, args in (
        ("ruff_fix", "check --fix REVISION_SCRIPT_FILENAME"),
        ("ruff_format", "format REVISION_SCRIPT_FILENAME"),
    ):
        cfg.set_section_option("post_write_hooks", f"{hook}.type", "exec")
        cfg.set_section_option("post_write_hooks", f"{hook}.executable", "ruff")
        cfg.set_section_option("post_write_hooks", f"{hook}.options", args)
    return cfg


def upgrade_all(database_url: str) -> None:
    for service in SERVICES:
        log.info("migrating %s", service)
        command.upgrade(alembic_config(service, database_url), "head")


def run_env(metadata: sa.MetaData, schema: str) -> None:
    """The body of a service's migrations/env.py (online mode only)."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        conn.commit()
        context.configure(
            connection=conn,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_name=lambda name, type_, parent: type_ != "schema" or name == schema,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def main() -> None:
    """Upgrade every schema; `--new SERVICE MESSAGE` autogenerates a revision instead
    (against the database in DATABASE_URL, which must be at head)."""
    settings = CommonSettings()
    configure_logging(settings.log_level, settings.log_format)
    if len(sys.argv) == 4 and sys.argv[1] == "--new":
        service, message = sys.argv[2], sys.argv[3]
        script = ScriptDirectory.from_config(alembic_config(service, settings.database_url))
        heads = [int(h) for h in script.get_heads()]
        rev_id = f"{max(heads, default=0) + 1:04d}"
        command.revision(
            alembic_config(service, settings.database_url),
            message=message,
            autogenerate=True,
            rev_id=rev_id,
        )
        return
    upgrade_all(settings.database_url)
    log.info("migrations done")


if __name__ == "__main__":
    main()
