"""OpenTelemetry traces: gateway → gRPC → services, and through Temporal.

Tracing is on when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (spans go there over OTLP/HTTP);
off otherwise, at no cost. Log records carry the current trace id either way
(see services/common/logging.py).
"""

from __future__ import annotations

import os
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter


def setup_tracing(component: str, exporter: SpanExporter | None = None) -> bool:
    """Install a tracer provider for `component`; True when spans are exported.

    `exporter` is for tests (an in-memory exporter); otherwise OTLP/HTTP when configured.
    """
    if exporter is None:
        if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
            return False
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": f"dealflow-{component}"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return True


def instrument_grpc_server() -> None:
    from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorServer

    GrpcAioInstrumentorServer().instrument()  # type: ignore[no-untyped-call]


def instrument_grpc_client() -> None:
    from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient

    GrpcAioInstrumentorClient().instrument()  # type: ignore[no-untyped-call]


def current_trace_id() -> str:
    """The current trace id as 32 hex digits, or "" outside a sampled span."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""


def temporal_interceptors() -> list[Any]:
    """Temporal client interceptors: trace context through workflows and activities."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]
