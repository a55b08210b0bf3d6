"""FilesService (in the deals process) over gRPC and PostgreSQL: a file of a deal is seen by
whoever sees the deal and by nobody else; attachments to the deal's other records."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from dealflow.deals.v1 import deals_pb2 as pb
from dealflow.deals.v1 import deals_pb2_grpc, files_pb2, files_pb2_grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.db import create_engine
from services.common.errors import NotFound, ValidationFailed
from services.common.grpc_client import call, channel
from services.deals.main import start_server
from services.deals.service import DealsService

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def deals_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=4)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def chan(deals_engine: AsyncEngine) -> AsyncIterator[grpc.aio.Channel]:
    server, port = await start_server(DealsService(deals_engine))
    opened: grpc.aio.Channel = channel(f"127.0.0.1:{port}")
    yield opened
    await opened.close()
    await server.stop(None)


async def _user(deals: deals_pb2_grpc.DealsServiceStub, role: str) -> str:
    email = f"{role}-{uuid.uuid4().hex[:6]}@files.test"
    request = pb.CreateUserRequest(email=email, name=email, password="long enough", roles=[role])
    return str((await call(deals.CreateUser, request)).id)


def _new_file(deal_id: str, content: bytes, **extra: object) -> files_pb2.CreateFileRequest:
    return files_pb2.CreateFileRequest(
        deal_id=deal_id,
        name="contract.pdf",
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        storage_key=f"ab/{uuid.uuid4().hex}",
        **extra,  # type: ignore[arg-type]
    )


async def test_a_deal_file_is_seen_by_who_sees_the_deal(chan: grpc.aio.Channel) -> None:
    deals = deals_pb2_grpc.DealsServiceStub(chan)
    files = files_pb2_grpc.FilesServiceStub(chan)
    manager, other, ceo = [await _user(deals, r) for r in ("manager", "manager", "ceo")]
    pipeline = await call(
        deals.CreatePipeline,
        pb.CreatePipelineRequest(
            name="Files", stages=[pb.StageInput(name="New", semantic="in_progress")]
        ),
    )
    deal = await call(
        deals.CreateDeal, pb.CreateDealRequest(pipeline_id=pipeline.id, title="Pens"), actor=manager
    )
    with pytest.raises(NotFound):
        await call(files.CreateFile, _new_file(deal.id, b"x"), actor=other)
    with pytest.raises(ValidationFailed) as caught:
        bad = _new_file(deal.id, b"x")
        bad.sha256, bad.name = "nope", "../etc/passwd"
        await call(files.CreateFile, bad, actor=manager)
    assert {p.field for p in caught.value.problems} == {"sha256"}
    risky = _new_file(deal.id, b"x")
    risky.name = "../../etc/pass\x1b[2Jwd\r\nX-Evil: 1\u202e.pdf"
    kept = await call(files.CreateFile, risky, actor=manager)
    assert kept.name == "pass[2Jwd X-Evil: 1.pdf", "the last component, no control characters"
    created = await call(
        files.CreateFile,
        _new_file(deal.id, b"%PDF", attachments=[files_pb2.Attachment(kind="contract", id="5")]),
        actor=manager,
    )
    assert {(a.kind, a.id) for a in created.attachments} == {("deal", deal.id), ("contract", "5")}
    for who in (manager, ceo, None):
        got = await call(files.GetFile, files_pb2.GetFileRequest(id=created.id), actor=who)
        assert got.sha256 == hashlib.sha256(b"%PDF").hexdigest()
    with pytest.raises(NotFound):
        await call(files.GetFile, files_pb2.GetFileRequest(id=created.id), actor=other)
    with pytest.raises(NotFound):
        await call(files.ListFiles, files_pb2.ListFilesRequest(deal_id=deal.id), actor=other)
    await call(
        files.AttachFile,
        files_pb2.AttachFileRequest(
            id=created.id, attachment=files_pb2.Attachment(kind="decision", id="12")
        ),
        actor=manager,
    )
    of_decision = await call(
        files.ListFiles,
        files_pb2.ListFilesRequest(
            deal_id=deal.id, attached_to=files_pb2.Attachment(kind="decision", id="12")
        ),
        actor=manager,
    )
    assert [f.id for f in of_decision.files] == [created.id]
