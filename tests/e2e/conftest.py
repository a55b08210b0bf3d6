"""The whole stack, started as `make up` starts it, on free ports; clients for its API."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from deploy.local.stack import Ports, Stack
from tests.conftest import _CLEAN_ENV

T = TypeVar("T")


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Stack]:
    yield from running_stack(tmp_path_factory, request, "stack")


def running_stack(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest, name: str
) -> Iterator[Stack]:
    """A whole stack of its own in a fresh data directory, for a fixture to yield from."""
    data = tmp_path_factory.mktemp(name)
    # a heartbeat each second, so the live events' test sees one without waiting 15 s
    environ = {**_CLEAN_ENV, "GATEWAY_EVENTS_HEARTBEAT_SECONDS": "1"}
    stack = Stack(data, ports=Ports.free(), environ=environ, headless=True, log_dir=data / "logs")
    try:
        stack.start(timeout=180)
    except BaseException:
        _dump_logs(data / "logs")
        raise
    yield stack
    stack.stop()
    if request.session.testsfailed:
        _dump_logs(data / "logs")


def _dump_logs(logs: Path, lines: int = 60) -> None:
    for log in sorted(logs.glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        print(f"\n===== {log.name} (last {lines} lines) =====\n" + "\n".join(tail))


async def login(base_url: str, email: str, password: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url + "/api/v1", timeout=30)
    resp = await client.post("/auth/token", data={"username": email, "password": password})
    assert resp.status_code == 200, resp.text
    client.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
    return client


@pytest.fixture
async def admin(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    client = await login(stack.gateway_url, stack.admin_email, stack.admin_password)
    yield client
    await client.aclose()


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, timeout: float = 15.0, what: str = "condition"
) -> T:
    """Poll `probe` until it returns something truthy (asynchronous effects: events,
    consumers, workflows); fails with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def problem(resp: httpx.Response) -> dict[str, Any]:
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.text
    body: dict[str, Any] = json.loads(resp.text)
    return body


@pytest.fixture(scope="session")
def blueprint_stack(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Stack]:
    """A stack of its own for blueprints and the board: a blueprint sets the company
    calendar and approval templates (`supplier_payment`, `expense`) that the scenarios on
    `stack` set up their own way."""
    yield from running_stack(tmp_path_factory, request, "blueprint_stack")


@pytest.fixture
async def blueprint_admin(blueprint_stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    client = await login(
        blueprint_stack.gateway_url, blueprint_stack.admin_email, blueprint_stack.admin_password
    )
    yield client
    await client.aclose()
