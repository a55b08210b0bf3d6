"""Prometheus metrics shared by the components (each serves them on its metrics port)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

RPC_REQUESTS = Counter("dealflow_rpc_requests_total", "gRPC calls served", ["method", "code"])
RPC_LATENCY = Histogram("dealflow_rpc_duration_seconds", "gRPC call latency", ["method"])
OUTBOX_LAG = Gauge("dealflow_outbox_pending", "Outbox events not yet published", ["source"])
CONSUMER_LAG = Gauge("dealflow_consumer_pending", "Events waiting for a consumer", ["durable"])


def observe_rpc(method: str, code: str, seconds: float) -> None:
    RPC_REQUESTS.labels(method, code).inc()
    RPC_LATENCY.labels(method).observe(seconds)


def serve_metrics(port: int) -> None:
    """Expose /metrics on `port` (0 = disabled)."""
    if port:
        start_http_server(port)
