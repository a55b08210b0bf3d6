"""F10: the gateway dies (SIGKILL, from a fault point) after it stored an upload's bytes and
before the deals service recorded the file. Nobody can reach that blob (downloads go
through the record) and the client's retry stores the file anew; the gateway's sweep
deletes such blobs (older than a day in production, at once here) and keeps every blob a
record uses."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from dealflow.deals.v1 import files_pb2_grpc

from deploy.local.stack import Stack
from services.common.blobs import LocalBlobStore
from services.common.grpc_client import channel
from services.gateway.blob_sweep import sweep_orphan_blobs
from tests.e2e.conftest import eventually
from tests.faults.conftest import Org, arm

pytestmark = pytest.mark.timeout(180)


async def _ready(stack: Stack) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            return (await http.get(stack.gateway_url + "/readyz")).status_code == 200
    except httpx.HTTPError:
        return False


def _on_disk(stack: Stack) -> set[str]:
    root = stack.data_dir / "files"
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


async def _upload(client: httpx.AsyncClient, deal_id: int, name: str) -> httpx.Response:
    return await client.post(
        "/files",
        data={"deal_id": str(deal_id)},
        files={"file": (name, b"%PDF-1.4 F10", "application/pdf")},
    )


async def test_f10_a_blob_left_without_its_record_is_swept(stack: Stack, org: Org) -> None:
    deal = (
        await org.manager.post("/deals", json={"pipeline_id": org.pipeline_id, "title": "F10"})
    ).json()
    before = _on_disk(stack)
    arm(stack, "gateway.after_storing_the_blob")
    with pytest.raises(httpx.TransportError):
        await _upload(org.manager, deal["id"], "cut.pdf")
    await asyncio.to_thread(stack.process("gateway").popen.wait, 30)  # type: ignore[union-attr]
    await asyncio.to_thread(stack.start_again, "gateway")
    await eventually(lambda: _ready(stack), timeout=60, what="the gateway up again")
    orphans = _on_disk(stack) - before
    assert len(orphans) == 1, "the bytes were stored"
    listed = await org.manager.get("/files", params={"deal_id": deal["id"]})
    assert listed.json()["items"] == [], "and never recorded"
    kept = await _upload(org.manager, deal["id"], "kept.pdf")  # the retry, say
    assert kept.status_code == 201, kept.text

    chan = channel(stack.service_addr("deals"))
    try:
        removed = await sweep_orphan_blobs(
            LocalBlobStore(stack.data_dir / "files"),
            files_pb2_grpc.FilesServiceStub(chan),
            older_than=timedelta(0),
        )
    finally:
        await chan.close()

    assert removed >= 1
    assert not orphans & _on_disk(stack), "the orphan is gone"
    got = await org.manager.get(f"/files/{kept.json()['id']}/content")
    assert got.status_code == 200 and got.content == b"%PDF-1.4 F10", "a recorded blob stays"
    print(f"\nF10: {removed} blob(s) without a record swept; recorded files kept")
