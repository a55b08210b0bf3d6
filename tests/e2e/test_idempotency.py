"""Idempotency-Key on the real stack: retries of a creating POST (sequential and
concurrent) create one deal and get the first answer; another body under the key is 422."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually, problem
from tests.e2e.test_deals_flow import sales_pipeline


async def test_retried_creates_make_one_deal(stack: Stack, admin: httpx.AsyncClient) -> None:
    pipeline = await sales_pipeline(admin)
    title = f"Idempotent {uuid.uuid4().hex[:8]}"
    body = {"pipeline_id": pipeline["id"], "title": title}
    key = {"Idempotency-Key": str(uuid.uuid4())}

    replies = await asyncio.gather(
        *(admin.post("/deals", json=body, headers=key) for _ in range(4))
    )
    again = await admin.post("/deals", json=body, headers=key)
    other = await admin.post("/deals", json={**body, "title": "other"}, headers=key)

    assert [r.status_code for r in replies] == [201] * 4, [r.text for r in replies]
    assert {r.json()["id"] for r in [*replies, again]} == {replies[0].json()["id"]}
    assert again.headers["idempotent-replayed"] == "true"
    assert other.status_code == 422
    assert problem(other)["errors"][0]["field"] == "Idempotency-Key"
    listed = await admin.get("/deals", params={"pipeline_id": pipeline["id"], "q": title})
    assert [d["id"] for d in listed.json()["items"]] == [replies[0].json()["id"]]


async def test_retried_process_start_starts_one_run(stack: Stack, admin: httpx.AsyncClient) -> None:
    pipeline = await sales_pipeline(admin)
    deal = (await admin.post("/deals", json={"pipeline_id": pipeline["id"], "title": "P"})).json()
    body = {"process": "sample_return", "params": {"return_by": "2030-01-01"}}
    key = {"Idempotency-Key": str(uuid.uuid4())}

    first = await admin.post(f"/deals/{deal['id']}/processes", json=body, headers=key)
    again = await admin.post(f"/deals/{deal['id']}/processes", json=body, headers=key)

    assert (first.status_code, again.status_code) == (201, 201), first.text
    assert first.json() == again.json()
    assert first.json()["workflow_id"].endswith("/1")

    async def listed() -> list[str]:
        runs = (await admin.get(f"/deals/{deal['id']}/processes")).json()
        return [r["id"] for r in runs]

    assert await eventually(listed, what="the run listed") == [first.json()["workflow_id"]]
