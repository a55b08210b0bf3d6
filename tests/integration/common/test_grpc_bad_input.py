"""Every RPC of the services refuses malformed input as the caller's mistake: a malformed
id, a NUL or control character, SQL in a text field, an absurd number or a huge string is
INVALID_ARGUMENT (with the field in the problem details) or another client status, never
INTERNAL or UNKNOWN (DESIGN rule 7)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from dealflow.deals.v1 import crm_pb2, deals_pb2
from dealflow.notifications.v1 import notifications_pb2
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor, ServiceDescriptor
from google.protobuf.message_factory import GetMessageClass
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.db import create_engine
from services.common.grpc_client import call, channel
from services.common.grpc_server import ACTOR_KEY, PROBLEM_KEY
from services.deals import main as deals_main
from services.deals.service import DealsService
from services.notifications import main as notifications_main
from services.notifications.people import DealsPeople
from services.notifications.service import NotificationsService

pytestmark = pytest.mark.integration

SERVER_FAULTS = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
NASTY_STRINGS = [
    "abc",
    "-1",
    "0",
    "99999999999999999999999",
    "nul\x00byte",
    "bell\x07\x1b[2J",
    "'; DROP TABLE deals.deals; --",
    "\ud7ff\ufffe",
    "x" * 100_000,
]
NASTY_INTS = [-(2**31), 2**31 - 1]
# readable Temporal ids, opaque session ids, audit subjects (an e-mail): not record ids
TEXT_IDS = {"workflow_id", "session_id", "subject_id"}


@dataclass
class Target:
    service: ServiceDescriptor
    address: str
    actor: str


@pytest.fixture(scope="module")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=4)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def targets(engine: AsyncEngine) -> AsyncIterator[dict[str, Target]]:
    from dealflow.deals.v1 import deals_pb2_grpc

    deals_server, deals_port = await deals_main.start_server(DealsService(engine))
    chan = channel(f"127.0.0.1:{deals_port}")
    people = DealsPeople(deals_pb2_grpc.DealsServiceStub(chan))
    notes_server, notes_port = await notifications_main.start_server(
        NotificationsService(engine, people=people)
    )
    stub = deals_pb2.DESCRIPTOR.services_by_name["DealsService"]

    admin = await call(
        deals_pb2_grpc.DealsServiceStub(chan).CreateUser,
        deals_pb2.CreateUserRequest(
            email="fuzz-admin@example.com", name="Admin", password="correct horse", roles=["admin"]
        ),
    )
    yield {
        "deals": Target(stub, f"127.0.0.1:{deals_port}", admin.id),
        "crm": Target(
            crm_pb2.DESCRIPTOR.services_by_name["CrmService"], f"127.0.0.1:{deals_port}", admin.id
        ),
        "notifications": Target(
            notifications_pb2.DESCRIPTOR.services_by_name["NotificationsService"],
            f"127.0.0.1:{notes_port}",
            admin.id,
        ),
    }
    await chan.close()
    await deals_server.stop(None)
    await notes_server.stop(None)


def _cases(method: MethodDescriptor) -> Iterator[tuple[str, Any]]:
    for field in method.input_type.fields:
        if field.is_repeated:
            if field.type == FieldDescriptor.TYPE_STRING:
                yield field.name, ["abc", "nul\x00"]
            continue
        if field.type == FieldDescriptor.TYPE_STRING:
            for value in NASTY_STRINGS:
                yield field.name, value
        elif field.type in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64):
            for number in NASTY_INTS:
                yield field.name, number


def _methods(name: str) -> list[str]:
    pb = {"deals": deals_pb2, "crm": crm_pb2}.get(name, notifications_pb2)
    service = next(iter(pb.DESCRIPTOR.services_by_name.values()))
    return [m.name for m in service.methods]


@pytest.mark.parametrize(
    ("service", "method"),
    [(s, m) for s in ("deals", "crm", "notifications") for m in _methods(s)],
)
async def test_malformed_input_is_a_client_error(
    targets: dict[str, Target], service: str, method: str
) -> None:
    target = targets[service]
    descriptor = target.service.methods_by_name[method]
    request_type = GetMessageClass(descriptor.input_type)
    response_type = GetMessageClass(descriptor.output_type)
    faults: list[str] = []
    async with grpc.aio.insecure_channel(target.address) as chan:
        rpc = chan.unary_unary(
            f"/{target.service.full_name}/{method}",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response_type.FromString,
        )
        for field, value in _cases(descriptor):
            request = request_type()
            if isinstance(value, list):
                getattr(request, field).extend(value)
            else:
                setattr(request, field, value)
            malformed_id = value == "abc" and field not in TEXT_IDS and field.endswith("id")
            try:
                await rpc(request, metadata=((ACTOR_KEY, target.actor),), timeout=10)
                if malformed_id:
                    faults.append(f"{field}='abc' was accepted")
            except grpc.aio.AioRpcError as exc:
                if malformed_id and exc.code() != grpc.StatusCode.INVALID_ARGUMENT:
                    faults.append(f"{field}='abc': {exc.code().name}, not INVALID_ARGUMENT")
                if exc.code() in SERVER_FAULTS:
                    faults.append(f"{field}={str(value)[:30]!r}: {exc.code().name} {exc.details()}")
                elif exc.code() == grpc.StatusCode.INVALID_ARGUMENT:
                    details = dict(exc.trailing_metadata() or ()).get(PROBLEM_KEY)
                    assert details, f"{method} {field}: INVALID_ARGUMENT without details"
                    assert json.loads(details)["problems"], f"{method} {field}: no field problems"
    assert not faults, "\n".join(faults)
