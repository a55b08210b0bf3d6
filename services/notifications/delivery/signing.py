"""Webhook signatures: HMAC-SHA256 of `<timestamp>.<body>` with the webhook's secret, sent as
`Dealflow-Signature: t=<unix seconds>,v1=<hex>`. A receiver recomputes it and refuses an
old timestamp (a replay)."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Dealflow-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """Whether `header` signs `body` with `secret` within `tolerance` seconds of `now`."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    if not parts.get("t", "").isdigit() or "v1" not in parts:
        return False
    timestamp = int(parts["t"])
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).rsplit("v1=", 1)[1]
    return hmac.compare_digest(expected, parts["v1"])
