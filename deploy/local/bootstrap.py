"""One-time preparation of the infrastructure: database, schemas, streams, search attributes.

Every step is idempotent, so `make up` runs them on each start, against local or external
parts alike.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client

from services.common.migrate import upgrade_all
from services.common.nats import connect, provision_streams

log = logging.getLogger(__name__)

SEARCH_ATTRIBUTES = ("DealId", "PipelineId", "Stage", "Assignee", "ProcessName", "LeadId")


def _connect_when_up(conninfo: str, timeout: float = 60.0) -> psycopg.Connection[Any]:
    """A connection, once the server accepts them: its port opens while it is still
    starting up (recovering, on a loaded machine for seconds), which refuses connections."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return psycopg.connect(conninfo, autocommit=True)
        except psycopg.OperationalError as exc:
            if "starting up" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def ensure_database(database_url: str) -> None:
    """Create the database named in the URL if the server does not have it yet."""
    url = make_url(database_url)
    name = url.database or "dealflow"
    admin = url.set(drivername="postgresql", database="postgres")
    with _connect_when_up(admin.render_as_string(hide_password=False)) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            log.info("created database %s", name)


async def register_search_attributes(client: Client, namespace: str) -> None:
    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    missing = {
        name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
        for name in SEARCH_ATTRIBUTES
        if name not in existing.custom_attributes
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(search_attributes=missing, namespace=namespace)
        )
        log.info("registered search attributes %s", ", ".join(missing))


async def prepare(
    *, database_url: str, nats_url: str, temporal_address: str, namespace: str
) -> None:
    await asyncio.to_thread(ensure_database, database_url)
    await asyncio.to_thread(upgrade_all, database_url)
    nc = await connect(nats_url, name="bootstrap")
    try:
        await provision_streams(nc.jetstream())
    finally:
        await nc.close()
    client = await Client.connect(temporal_address, namespace=namespace)
    await register_search_attributes(client, namespace)
