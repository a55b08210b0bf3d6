"""F9: the gateway dies (SIGKILL, from a fault point) after a service committed a create
and before the gateway kept the answer of its Idempotency-Key. The client saw no answer and
retries with the same key: once the dead request's lease is over the gateway runs it
again, and the service, which kept the key with the record, answers with the record it
made. One deal, invoice, payment request, expense, contract, file (and blob) and process
run each, never two."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.service import RPCError

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually
from tests.faults.conftest import Org, arm
from tests.faults.processes import RETURN_BY, sql

pytestmark = pytest.mark.timeout(300)
POINT = "gateway.before_keeping_the_answer"


async def _ready(stack: Stack) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            return (await http.get(stack.gateway_url + "/readyz")).status_code == 200
    except httpx.HTTPError:
        return False


async def _post(client: httpx.AsyncClient, path: str, body: Any, key: str) -> httpx.Response:
    headers = {"Idempotency-Key": key}
    if path == "/files":  # an upload: multipart, the same bytes again (one boundary per key)
        headers["Content-Type"] = f"multipart/form-data; boundary={key}"
        upload = {"file": (body["name"], b"%PDF-1.4 F9", "application/pdf")}
        form = {"deal_id": str(body["deal_id"])}
        return await client.post(path, data=form, files=upload, headers=headers)
    return await client.post(path, json=body, headers=headers)


def _blobs(stack: Stack) -> int:
    return sum(1 for p in (stack.data_dir / "files").rglob("*") if p.is_file())


async def _cut_off(stack: Stack, client: httpx.AsyncClient, path: str, body: Any, key: str) -> None:
    """The create runs, the gateway dies before answering; then it is started again."""
    arm(stack, POINT)
    with pytest.raises(httpx.TransportError):
        await _post(client, path, body, key)
    await asyncio.to_thread(stack.process("gateway").popen.wait, 30)  # type: ignore[union-attr]
    await asyncio.to_thread(stack.start_again, "gateway")
    await eventually(lambda: _ready(stack), timeout=60, what="the gateway up again")


async def _retried(client: httpx.AsyncClient, path: str, body: Any, key: str) -> httpx.Response:
    """Retry until a definite answer: 409 with Retry-After while the dead request's lease
    runs (2 x the request timeout + 5 s)."""
    deadline = time.monotonic() + 90
    while True:
        resp = await _post(client, path, body, key)
        if resp.status_code not in (409, 503):
            return resp
        assert time.monotonic() < deadline, f"{path}: still {resp.status_code} {resp.text}"
        await asyncio.sleep(1)


async def test_f9_a_create_cut_off_by_the_gateway_dying_is_made_once(
    stack: Stack, org: Org
) -> None:
    tag = uuid.uuid4().hex[:8]
    manager, admin = org.manager, org.admin
    deal = (
        await manager.post("/deals", json={"pipeline_id": org.pipeline_id, "title": "F9"})
    ).json()
    code = f"f9_{tag}"
    assert (await admin.put(f"/contract-types/{code}", json={"name": "F9"})).status_code == 200
    spend = {
        "deal_id": deal["id"],
        "counterparty": "S",
        "amount": "10.00",
        "due_date": "2026-12-20",
    }
    creates: dict[str, tuple[str, dict[str, Any], str]] = {
        "deal": (
            "/deals",
            {"pipeline_id": org.pipeline_id, "title": f"f9 {tag}"},
            "SELECT id FROM deals.deals WHERE title = %s",
        ),
        "invoice": (
            "/invoices",
            {"deal_id": deal["id"], "counterparty": f"f9 {tag}"},
            "SELECT id FROM finance.invoices WHERE counterparty = %s",
        ),
        "payment request": (
            "/payment-requests",
            {**spend, "purpose": f"f9 {tag}"},
            "SELECT id FROM finance.spends WHERE purpose = %s AND kind = 'supplier_payment'",
        ),
        "expense": (
            "/expenses",
            {**spend, "purpose": f"f9 {tag}"},
            "SELECT id FROM finance.spends WHERE purpose = %s AND kind = 'expense'",
        ),
        "contract": (
            "/contracts",
            {
                "deal_id": deal["id"],
                "type_code": code,
                "counterparty_kind": "client",
                "counterparty_name": "C",
                "title": f"f9 {tag}",
            },
            "SELECT id FROM approvals.contracts WHERE title = %s",
        ),
        "file": (
            "/files",
            {"deal_id": deal["id"], "name": f"f9 {tag}"},
            "SELECT id FROM deals.files WHERE name = %s",
        ),
        "process": (
            f"/deals/{deal['id']}/processes",
            {"process": "sample_return", "params": {"return_by": RETURN_BY}},
            "runs",
        ),
    }
    keys = {what: str(uuid.uuid4()) for what in creates}
    blobs_before = _blobs(stack)
    for what, (path, body, _) in creates.items():
        await _cut_off(stack, manager, path, body, keys[what])

    answers = await asyncio.gather(
        *(_retried(manager, path, body, keys[what]) for what, (path, body, _) in creates.items())
    )

    for (what, (path, body, query)), resp in zip(creates.items(), answers, strict=True):
        assert resp.status_code == 201, f"{what}: {resp.status_code} {resp.text}"
        field = "workflow_id" if query == "runs" else "id"
        if query == "runs":
            made = await _runs(stack, f"deal-{deal['id']}/sample-return")
        else:
            made = [row[0] for row in sql(stack, query, f"f9 {tag}")]
        assert made == [resp.json()[field]], f"{what}: made {made}, answered {resp.json()}"
        replay = await _post(manager, path, body, keys[what])
        assert replay.headers.get("Idempotent-Replayed") == "true"
        assert replay.json()[field] == resp.json()[field]
    assert _blobs(stack) == blobs_before + 1, "the retried upload's own blob is not kept"


async def _runs(stack: Stack, prefix: str) -> list[str]:
    """The runs `<prefix>/1`, `/2`, ... that exist."""
    temporal = await Client.connect(stack.temporal_address, namespace=stack.namespace)
    found = []
    for n in range(1, 4):
        try:
            await temporal.get_workflow_handle(f"{prefix}/{n}").describe()
        except RPCError:
            break
        found.append(f"{prefix}/{n}")
    return found
