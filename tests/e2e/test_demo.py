"""The demo of `DEALFLOW_DEMO=ad-agency make up`: the blueprint applied, a few dozen deals
at different stages, running processes with open tasks; a second start makes no more."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from deploy.local.demo import run_demo
from deploy.local.stack import Stack
from tests.e2e.conftest import eventually, login


async def test_demo_seeds_deals_processes_and_tasks(
    blueprint_stack: Stack, blueprint_admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    admin = (blueprint_stack.admin_email, blueprint_stack.admin_password)
    said = await asyncio.to_thread(
        run_demo, blueprint_stack.gateway_url, admin, "ad-agency", tmp_path
    )
    assert "deals" in said, said
    demo = []
    for pipeline in (await blueprint_admin.get("/pipelines", params={"kind": "deal"})).json():
        listed = await blueprint_admin.get(
            "/deals", params={"pipeline_id": pipeline["id"], "limit": 200}
        )
        demo += [d for d in listed.json()["items"] if "#" in d["title"]]
    assert len(demo) >= 24, len(demo)
    assert len({d["stage_id"] for d in demo}) >= 3
    anna = await login(blueprint_stack.gateway_url, "anna@agency.example", "dealflow-demo")

    async def open_tasks() -> list[dict[str, object]]:
        found = (await anna.get("/tasks", params={"assignee": "me", "status": "open"})).json()
        return [t for t in found["items"] if str(t.get("kind", "")).startswith("sample_return")]

    assert await eventually(open_tasks, timeout=30, what="the demo's open tasks")
    statuses = [
        run["status"]
        for deal in demo[:12]
        for run in (await blueprint_admin.get(f"/deals/{deal['id']}/processes")).json()
    ]
    assert "running" in statuses, statuses

    again = await asyncio.to_thread(
        run_demo, blueprint_stack.gateway_url, admin, "ad-agency", tmp_path
    )
    assert "made before" in again, again
    await anna.aclose()
