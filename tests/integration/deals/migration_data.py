"""For the migration tests: a database at an old revision, and rows written by hand there
(a pipeline of two stages, a manager, and deals in the first stage)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from deploy.local.bootstrap import ensure_database
from deploy.local.stack import Stack
from services.common.migrate import alembic_config


def deals_at(infra: Stack, revision: str) -> tuple[Config, sa.Engine]:
    """A fresh database with the deals schema migrated to `revision`: its alembic config
    (to migrate it on) and an engine on it."""
    url = f"{infra.database_url.rsplit('/', 1)[0]}/m_{uuid.uuid4().hex[:12]}"
    ensure_database(url)
    config = alembic_config("deals", url)
    command.upgrade(config, revision)
    return config, sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def pipeline_with_deals(
    conn: sa.Connection, now: datetime, *, deals: int
) -> tuple[int, int, int, list[int]]:
    """(stage A, stage B, the manager, the deals' ids)."""
    q = sa.text
    pipeline = conn.execute(
        q("INSERT INTO deals.pipelines (name, created_at) VALUES ('P', :now) RETURNING id"),
        {"now": now},
    ).scalar_one()
    a, b = (
        conn.execute(
            q(
                "INSERT INTO deals.stages (pipeline_id, name, semantic, position) "
                "VALUES (:p, :n, 'in_progress', :i) RETURNING id"
            ),
            {"p": pipeline, "n": name, "i": i},
        ).scalar_one()
        for i, name in enumerate("AB")
    )
    user = conn.execute(
        q(
            "INSERT INTO deals.users (email, name, password_hash, roles, created_at) "
            "VALUES ('u@x.test', 'u', '!', '{manager}', :now) RETURNING id"
        ),
        {"now": now},
    ).scalar_one()
    deal_ids = [
        conn.execute(
            q(
                "INSERT INTO deals.deals (pipeline_id, stage_id, title, responsible_id, "
                "currency, fields, version, created_at, updated_at, stage_entered_at) "
                "VALUES (:p, :s, 't', :u, 'RUB', '{}', 1, :now, :now, :now) RETURNING id"
            ),
            {"p": pipeline, "s": a, "u": user, "now": now},
        ).scalar_one()
        for _ in range(deals)
    ]
    return a, b, user, deal_ids


def columns_of(conn: sa.Connection, table: str) -> set[str]:
    """The columns a table of the deals schema has now."""
    query = sa.text(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'deals' AND table_name = :t"
    )
    return set(conn.execute(query, {"t": table}).scalars())
