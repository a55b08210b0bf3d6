"""Domain errors over gRPC: input that earns hundreds of problems, or a problem echoing a
huge value, still arrives as INVALID_ARGUMENT with its problems, not as the client's
RESOURCE_EXHAUSTED for oversized metadata (which the gateway answers 429)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import grpc
import pytest

from services.common.errors import FieldProblem, ValidationFailed
from services.common.grpc_client import call, channel
from services.common.grpc_server import start_in_process

Refusal = Callable[[], ValidationFailed]


@pytest.fixture
async def refusing() -> AsyncIterator[Callable[[Refusal], grpc.aio.UnaryUnaryMultiCallable]]:
    """A method that raises the refusal it is given, behind the shared interceptor."""
    refusal: list[Refusal] = []

    async def refuse(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        raise refusal[0]()

    def register(server: grpc.aio.Server) -> list[str]:
        handler = grpc.unary_unary_rpc_method_handler(refuse)
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("test.Refuser", {"Refuse": handler}),)
        )
        return ["test.Refuser"]

    server, port = await start_in_process(register)
    client = channel(f"127.0.0.1:{port}")

    def method(make: Refusal) -> grpc.aio.UnaryUnaryMultiCallable:
        refusal[:] = [make]
        return client.unary_unary("/test.Refuser/Refuse")

    yield method
    await client.close()
    await server.stop(None)


@pytest.mark.parametrize(
    "make",
    [
        lambda: ValidationFailed(
            [FieldProblem(f"pipelines[{i}].pipeline_id", "is given twice") for i in range(1000)]
        ),
        lambda: ValidationFailed(FieldProblem("title", "is not 'ж" + "ж" * 40_000 + "'")),
    ],
    ids=["a thousand problems", "a huge non-ASCII value echoed"],
)
async def test_a_refusal_with_huge_details_still_arrives_as_a_refusal(
    refusing: Callable[[Refusal], grpc.aio.UnaryUnaryMultiCallable], make: Refusal
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await call(refusing(make), b"", actor=None)

    problems = refused.value.problems
    assert problems[0].field in {"pipelines[0].pipeline_id", "title"}
    assert 1 <= len(problems) <= 1000
    if len(make().problems) > len(problems):
        assert problems[-1].message.startswith("and ") and problems[-1].message.endswith(" more")
