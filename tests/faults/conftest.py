"""Fault tests: the whole stack (as `make up` starts it, on free ports, its own copy so the
end-to-end tests never see a fault), a manager and a head of sales to answer process
tasks, and a fixture that brings every killed process back after each test."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest

from deploy.local.stack import Ports, Stack
from services.common.faults import ENV as FAULTS_ENV
from tests.conftest import _CLEAN_ENV
from tests.e2e.conftest import _dump_logs, login
from tests.e2e.test_deals_flow import create_user, sales_pipeline

FAULTS_FILE = "faults"


def arm(stack: Stack, point: str) -> None:
    """The next time a process passes `point` it kills itself (once)."""
    (stack.data_dir / FAULTS_FILE).write_text(point)


@pytest.fixture(scope="session")
def fault_stack(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Stack]:
    data = tmp_path_factory.mktemp("faults")
    environ = {
        **_CLEAN_ENV,
        FAULTS_ENV: str(data / FAULTS_FILE),  # services/common/faults.py
        # Events a killed process held come back after this (30 s by default): the tests
        # that kill a consumer wait for that redelivery.
        "NATS_ACK_WAIT_SECONDS": "10",
    }
    stack = Stack(data, ports=Ports.free(), environ=environ, headless=True, log_dir=data / "logs")
    try:
        stack.start(timeout=180)
    except BaseException:
        _dump_logs(data / "logs")
        raise
    yield stack
    stack.stop()
    if request.session.testsfailed:
        _dump_logs(data / "logs", lines=120)


@pytest.fixture
def stack(fault_stack: Stack) -> Iterator[Stack]:
    """The fault stack; whatever a test killed runs again afterwards, and the gateway is
    ready, so one test's fault never leaks into the next."""
    yield fault_stack
    for proc in list(fault_stack.processes):
        if proc.popen is not None and proc.popen.poll() is not None:
            fault_stack.start_again(proc.name)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(fault_stack.gateway_url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the stack did not recover after the test")


@dataclass
class Org:
    admin: httpx.AsyncClient
    manager: httpx.AsyncClient
    head: httpx.AsyncClient
    manager_id: int
    pipeline_id: int

    async def close(self) -> None:
        for client in (self.admin, self.manager, self.head):
            await client.aclose()


@pytest.fixture
async def org(stack: Stack) -> AsyncIterator[Org]:
    admin = await login(stack.gateway_url, stack.admin_email, stack.admin_password)
    head = await _the_head(admin)
    manager = await create_user(admin, "manager")
    pipeline = await sales_pipeline(admin)
    org = Org(
        admin=admin,
        manager=await login(stack.gateway_url, manager["email"], manager["password"]),
        head=await login(stack.gateway_url, head["email"], head["password"]),
        manager_id=int(manager["id"]),
        pipeline_id=int(pipeline["id"]),
    )
    yield org
    await org.close()


_HEAD: dict[str, str] = {}


async def _the_head(admin: httpx.AsyncClient) -> dict[str, str]:
    """One head of sales for the whole session: FindHead falls back to the first one."""
    if not _HEAD:
        _HEAD.update(await create_user(admin, "head_of_sales"))
    return _HEAD


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}
