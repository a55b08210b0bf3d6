"""One REST call through the gateway to the deals service over gRPC leaves a Prometheus
metric and a trace: the gateway's server span, the gRPC client span and the deals
service's server span share one trace id."""

from __future__ import annotations

import httpx
from dealflow.deals.v1 import deals_pb2 as pb
from dealflow.deals.v1 import deals_pb2_grpc as pb_grpc
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from services.common.db import create_engine
from services.common.grpc_client import call, channel
from services.common.tracing import instrument_grpc_client, instrument_grpc_server, setup_tracing
from services.deals.main import start_server
from services.deals.service import DealsService
from services.gateway.main import create_app
from services.gateway.settings import GatewaySettings


async def test_a_rest_call_leaves_a_metric_and_one_trace_across_services(database_url: str) -> None:
    exporter = InMemorySpanExporter()
    assert setup_tracing("test", exporter=exporter)
    instrument_grpc_server()
    instrument_grpc_client()

    engine = create_engine(database_url, pool_size=2)
    server, port = await start_server(DealsService(engine))
    admin_channel = channel(f"127.0.0.1:{port}")
    await call(
        pb_grpc.DealsServiceStub(admin_channel).CreateUser,
        pb.CreateUserRequest(
            email="ops@example.com", name="Ops", password="long enough pw", roles=["admin"]
        ),
    )
    settings = GatewaySettings(
        jwt_secret="s" * 40, deals_addr=f"127.0.0.1:{port}", temporal_address="127.0.0.1:1"
    )
    app = create_app(settings)
    FastAPIInstrumentor.instrument_app(app)
    exporter.clear()
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
                resp = await client.post(
                    "/api/v1/auth/token",
                    data={"username": "ops@example.com", "password": "long enough pw"},
                )
                assert resp.status_code == 200, resp.text
                metrics = (await client.get("/metrics")).text
    finally:
        await admin_channel.close()
        await server.stop(None)
        await engine.dispose()

    sample = next(
        line
        for line in metrics.splitlines()
        if line.startswith("dealflow_http_requests_total") and "/api/v1/auth/token" in line
    )
    assert float(sample.rsplit(" ", 1)[1]) >= 1

    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    provider.force_flush()
    spans = exporter.get_finished_spans()
    rest = next(s for s in spans if s.kind == SpanKind.SERVER and "/api/v1/auth/token" in s.name)
    grpc_client = next(
        s for s in spans if s.kind == SpanKind.CLIENT and s.name.endswith("/Authenticate")
    )
    grpc_server = next(
        s for s in spans if s.kind == SpanKind.SERVER and s.name.endswith("/Authenticate")
    )
    trace_ids = {rest.context.trace_id, grpc_client.context.trace_id, grpc_server.context.trace_id}
    assert len(trace_ids) == 1, "the gRPC spans belong to the REST call's trace"
