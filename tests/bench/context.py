"""What every benchmark gets: the running stack, logged-in clients, a database connection,
the load generator, and the list of figures to report."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg

from deploy.local.stack import Stack
from tests.bench.httpload import LoadGenerator
from tests.bench.stats import Figure

PASSWORD = "correct horse battery"


def runs() -> int:
    """How many times each measurement is repeated (the median is reported)."""
    return max(1, int(os.environ.get("BENCH_RUNS", "5")))


def conninfo(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


async def login(base_url: str, email: str, password: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url + "/api/v1", timeout=60)
    resp = await client.post("/auth/token", data={"username": email, "password": password})
    resp.raise_for_status()
    client.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
    return client


def ok(resp: httpx.Response, status: int = 200) -> Any:
    if resp.status_code != status:
        raise RuntimeError(
            f"{resp.request.method} {resp.request.url}: {resp.status_code} {resp.text}"
        )
    return resp.json()


@dataclass
class Bench:
    stack: Stack
    admin: httpx.AsyncClient
    manager: httpx.AsyncClient  # a user with role manager: responsible for the bench deals
    manager_id: int
    pipeline: dict[str, Any]  # New, Contract (both in progress), Won, Lost
    db: psycopg.AsyncConnection[Any]
    load: LoadGenerator
    figures: list[Figure] = field(default_factory=list)

    @property
    def conninfo(self) -> str:
        return conninfo(self.stack.database_url)

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": str(self.manager.headers["Authorization"])}

    @property
    def stage_ids(self) -> list[int]:
        return [int(s["id"]) for s in self.pipeline["stages"]]

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    async def create_deals(self, count: int, title: str = "bench") -> list[int]:
        """Deals in the pipeline's first stage, the manager responsible."""
        ids = []
        for i in range(count):
            body = {"pipeline_id": self.pipeline["id"], "title": f"{title} {i}"}
            ids.append(int(ok(await self.manager.post("/deals", json=body), 201)["id"]))
        return ids


async def open_bench(stack: Stack, load: LoadGenerator) -> Bench:
    admin = await login(stack.gateway_url, stack.admin_email, stack.admin_password)
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    user = ok(
        await admin.post(
            "/users",
            json={
                "email": email,
                "name": "Bench Manager",
                "password": PASSWORD,
                "roles": ["manager"],
            },
        ),
        201,
    )
    manager = await login(stack.gateway_url, email, PASSWORD)
    stages = [
        {"name": "New", "semantic": "in_progress"},
        {"name": "Contract", "semantic": "in_progress"},
        {"name": "Won", "semantic": "won"},
        {"name": "Lost", "semantic": "lost"},
    ]
    pipeline = ok(await admin.post("/pipelines", json={"name": "Bench", "stages": stages}), 201)
    db = await psycopg.AsyncConnection.connect(conninfo(stack.database_url), autocommit=True)
    return Bench(stack, admin, manager, int(user["id"]), pipeline, db, load)
