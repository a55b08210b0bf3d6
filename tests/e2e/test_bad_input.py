"""Bad input through the whole stack (DESIGN rule 7): SQL in a text field is only text, a
NUL, a wrong type, an unknown field or a huge page is a 422 problem naming the field, an
oversized upload is a 413; whatever is refused leaves nothing stored."""

from __future__ import annotations

import uuid

import httpx

from deploy.local.stack import Stack
from tests.e2e.conftest import problem
from tests.e2e.test_deals_flow import sales_pipeline

MiB = 1024 * 1024


async def test_sql_in_a_title_is_stored_verbatim_and_a_nul_is_refused(
    stack: Stack, admin: httpx.AsyncClient
) -> None:
    pipeline = await sales_pipeline(admin)
    title = f"Pens {uuid.uuid4().hex[:6]}'; DROP TABLE deals; --"

    created = await admin.post("/deals", json={"pipeline_id": pipeline["id"], "title": title})
    refused = await admin.post(
        "/deals", json={"pipeline_id": pipeline["id"], "title": "Pens\x00 for Acme"}
    )

    assert created.status_code == 201, created.text
    assert (await admin.get(f"/deals/{created.json()['id']}")).json()["title"] == title
    assert refused.status_code == 422
    assert [e["field"] for e in problem(refused)["errors"]] == ["title"]
    listed = await admin.get("/deals", params={"pipeline_id": pipeline["id"]})
    assert [d["title"] for d in listed.json()["items"]] == [title]  # the table is there


async def test_wrong_types_unknown_fields_and_huge_pages_name_the_field(
    stack: Stack, admin: httpx.AsyncClient
) -> None:
    pipeline = await sales_pipeline(admin)
    cases = [
        ({"pipeline_id": "first", "title": "Pens"}, "pipeline_id"),
        ({"pipeline_id": pipeline["id"], "title": ["Pens"]}, "title"),
        ({"pipeline_id": pipeline["id"], "title": "Pens", "colour": "red"}, "colour"),
    ]
    for body, field in cases:
        reply = await admin.post("/deals", json=body)

        assert reply.status_code == 422, reply.text
        assert [e["field"] for e in problem(reply)["errors"]] == [field]
    for path in ("/deals", "/tasks", "/users", "/contracts", "/invoices", "/audit"):
        reply = await admin.get(path, params={"limit": 100_000})

        assert reply.status_code == 422, (path, reply.text)
        assert [e["field"] for e in problem(reply)["errors"]] == ["limit"], path
    listed = await admin.get("/deals", params={"pipeline_id": pipeline["id"]})
    assert listed.json()["items"] == []


async def test_an_oversized_upload_is_413_and_keeps_nothing(
    stack: Stack, admin: httpx.AsyncClient
) -> None:
    pipeline = await sales_pipeline(admin)
    deal = (await admin.post("/deals", json={"pipeline_id": pipeline["id"], "title": "F"})).json()
    stored = stack.data_dir / "files"
    before = [p for p in stored.rglob("*") if p.is_file()]

    reply = await admin.post(
        "/files",
        data={"deal_id": str(deal["id"])},
        files={"file": ("big.pdf", b"%PDF" + b"\x00" * (25 * MiB), "application/pdf")},
    )

    assert reply.status_code == 413
    assert problem(reply)["status"] == 413
    assert (await admin.get("/files", params={"deal_id": deal["id"]})).json()["items"] == []
    assert [p for p in stored.rglob("*") if p.is_file()] == before
