"""The gateway's approval, contract and file routes over fake stubs: a decision is the
answer to the approver's task (the same Update as /tasks/{id}/complete); uploads are limited,
checksummed, and leave nothing behind when refused; downloads stream with their headers."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from dealflow.approvals.v1 import approvals_pb2 as apb
from dealflow.deals.v1 import files_pb2
from dealflow.notifications.v1 import notifications_pb2
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from services.common.blobs import LocalBlobStore
from services.common.errors import NotFound
from tests.unit.gateway.conftest import USER_ID, FakeStub, World, settings, world  # noqa: F401
from tests.unit.gateway.test_tasks import answerer
from workflows.kit.contracts import COMPLETE_TASK_UPDATE, AnswerRefused, TaskAnswer

CHAIN = "deal-42/client-onboarding/1/approval-chain"


@pytest.fixture
def stubs(world: World, tmp_path: Path) -> dict[str, Any]:  # noqa: F811
    clients = world.app.state.clients
    clients.approvals, clients.files = FakeStub(), FakeStub()
    clients.blobs = LocalBlobStore(tmp_path)
    return {"approvals": clients.approvals, "files": clients.files, "dir": tmp_path}


def request_msg(*waiting: apb.Assignment) -> apb.ApprovalRequest:
    return apb.ApprovalRequest(
        id="9",
        deal_id="42",
        template_code="onboarding",
        status="in_progress",
        workflow_id=CHAIN,
        current_round=1,
        open_assignments=list(waiting),
    )


def task_msg(**overrides: Any) -> notifications_pb2.Task:
    values: dict[str, Any] = {
        "id": "55",
        "assignee_id": str(USER_ID),
        "deal_id": "42",
        "status": "open",
        "outcomes": ["approve", "reject"],
        "workflow_id": CHAIN,
    }
    return notifications_pb2.Task(**{**values, **overrides})


async def test_a_decision_answers_the_approvers_task(
    world: World,  # noqa: F811
    stubs: dict[str, Any],
) -> None:
    mine = apb.Assignment(step_code="head", approver_id=str(USER_ID), task_id="55")
    stubs["approvals"].answers["GetRequest"] = request_msg(mine)
    world.notifications.answers["CheckAnswerer"] = answerer(task_msg())
    world.notifications.answers["GetTask"] = task_msg()
    body = {"decision": "approve", "comment": "ok", "fields": {"credit_limit": "300000"}}
    reply = await world.http.post(
        "/api/v1/approvals/9/decision", json={**body, "file_ids": [3]}, headers=world.auth()
    )
    assert reply.status_code == 200, reply.text
    data = {"comment": "ok", "fields": {"credit_limit": "300000"}, "file_ids": ["3"]}
    assert world.temporal.updates == [
        (CHAIN, COMPLETE_TASK_UPDATE, TaskAnswer("55", str(USER_ID), "approve", data))
    ]


async def test_a_refused_decision_is_a_problem(world: World, stubs: dict[str, Any]) -> None:  # noqa: F811
    mine = apb.Assignment(step_code="head", approver_id=str(USER_ID), task_id="55")
    stubs["approvals"].answers["GetRequest"] = request_msg(mine)
    world.notifications.answers["CheckAnswerer"] = answerer(task_msg())
    world.notifications.answers["GetTask"] = task_msg()
    world.temporal.update_error = WorkflowUpdateFailedError(
        ApplicationError("a rejection needs a comment", type=AnswerRefused.INVALID_DATA)
    )
    reply = await world.http.post(
        "/api/v1/approvals/9/decision", json={"decision": "reject"}, headers=world.auth()
    )
    assert reply.status_code == 422 and "comment" in reply.json()["detail"]
    reply = await world.http.post(
        "/api/v1/approvals/9/decision", json={"decision": "maybe"}, headers=world.auth()
    )
    assert reply.status_code == 422


async def test_only_the_step_waiting_for_you(world: World, stubs: dict[str, Any]) -> None:  # noqa: F811
    stubs["approvals"].answers["GetRequest"] = request_msg()
    reply = await world.http.post(
        "/api/v1/approvals/9/decision", json={"decision": "approve"}, headers=world.auth()
    )
    assert reply.status_code == 409
    theirs = apb.Assignment(step_code="head", approver_id="99", task_id="56")
    stubs["approvals"].answers["GetRequest"] = request_msg(theirs)
    world.notifications.answers["CheckAnswerer"] = answerer(
        task_msg(assignee_id="99"), allowed=False
    )
    reply = await world.http.post(
        "/api/v1/approvals/9/decision", json={"decision": "approve"}, headers=world.auth()
    )
    assert reply.status_code == 403
    assert world.temporal.updates == []


async def test_the_substitute_of_an_absent_approver_decides(
    world: World,  # noqa: F811
    stubs: dict[str, Any],
) -> None:
    theirs = apb.Assignment(step_code="head", approver_id="99", task_id="56")
    stubs["approvals"].answers["GetRequest"] = request_msg(theirs)
    task = task_msg(id="56", assignee_id="99")
    world.notifications.answers["CheckAnswerer"] = answerer(task, stands_in_for="99")
    world.notifications.answers["GetTask"] = task
    reply = await world.http.post(
        "/api/v1/approvals/9/decision", json={"decision": "approve"}, headers=world.auth()
    )
    assert reply.status_code == 200, reply.text
    ((_, _, answer),) = world.temporal.updates
    assert (answer.task_id, answer.stands_in_for) == ("56", "99")


async def test_upload_is_limited_checksummed_and_kept(
    world: World,  # noqa: F811
    stubs: dict[str, Any],
) -> None:
    def created(request: files_pb2.CreateFileRequest) -> files_pb2.File:
        return files_pb2.File(
            id="3",
            deal_id=request.deal_id,
            name=request.name,
            content_type=request.content_type,
            size=request.size,
            sha256=request.sha256,
            storage_key=request.storage_key,
        )

    stubs["files"].answers["CreateFile"] = created
    content = b"%PDF-1.4 contract"
    reply = await world.http.post(
        "/api/v1/files",
        data={"deal_id": "42", "attach_kind": "contract", "attach_id": "5"},
        files={"file": ("../contract.pdf", content, "application/pdf")},
        headers=world.auth(),
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["sha256"] == hashlib.sha256(content).hexdigest()
    (call,) = stubs["files"].called("CreateFile")
    assert call.request.name == "contract.pdf"
    assert [(a.kind, a.id) for a in call.request.attachments] == [("contract", "5")]
    assert (stubs["dir"] / call.request.storage_key).read_bytes() == content

    reply = await world.http.post(
        "/api/v1/files",
        data={"deal_id": "42"},
        files={"file": ("run.sh", b"#!/bin/sh", "application/x-sh")},
        headers=world.auth(),
    )
    assert reply.status_code == 415


async def test_a_refused_upload_keeps_nothing(world: World, stubs: dict[str, Any]) -> None:  # noqa: F811
    stubs["files"].answers["CreateFile"] = NotFound("deal 42 not found")
    reply = await world.http.post(
        "/api/v1/files",
        data={"deal_id": "42"},
        files={"file": ("a.pdf", b"%PDF", "application/pdf")},
        headers=world.auth(),
    )
    assert reply.status_code == 404
    assert not [p for p in stubs["dir"].rglob("*") if p.is_file()]
    world.settings.max_upload_bytes = 10
    reply = await world.http.post(
        "/api/v1/files",
        data={"deal_id": "42"},
        files={"file": ("a.pdf", b"%PDF" * 10, "application/pdf")},
        headers=world.auth(),
    )
    assert reply.status_code == 413


async def test_download_streams_with_its_headers(world: World, stubs: dict[str, Any]) -> None:  # noqa: F811
    async def one(content: bytes) -> Any:
        yield content

    store: LocalBlobStore = world.app.state.clients.blobs
    stored = await store.put(one(b"%PDF body"), max_bytes=100)
    stubs["files"].answers["GetFile"] = files_pb2.File(
        id="3",
        deal_id="42",
        name="Договор.pdf",
        content_type="application/pdf",
        size=stored.size,
        sha256=stored.sha256,
        storage_key=stored.key,
    )
    reply = await world.http.get("/api/v1/files/3/content", headers=world.auth())
    assert reply.status_code == 200 and reply.content == b"%PDF body"
    assert reply.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''" in reply.headers["content-disposition"]
    assert reply.headers["x-checksum-sha256"] == stored.sha256
    stubs["files"].answers["GetFile"] = NotFound("file 3 not found")
    assert (
        await world.http.get("/api/v1/files/3/content", headers=world.auth())
    ).status_code == 404
