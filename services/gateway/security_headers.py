"""Security headers on every answer of the gateway.

Every response: `X-Content-Type-Options: nosniff` (a browser never second-guesses a declared
type), `X-Frame-Options: DENY` with `Content-Security-Policy: frame-ancestors 'none'` (no
framing, no clickjacking), `Referrer-Policy: no-referrer`. API answers (`/api/...`) also get
`Cache-Control: no-store` unless the route chose its own: they carry tokens and people's
records, which no shared cache may keep. `Strict-Transport-Security` is sent when the
request came over https (directly, or through a proxy that says so in
`X-Forwarded-Proto`); over plain http a browser ignores it anyway.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
FRAME_ANCESTORS = "frame-ancestors 'none'"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts_seconds: int = 31_536_000) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_seconds}; includeSubDomains" if hsts_seconds > 0 else ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = str(scope.get("path", "")).startswith("/api/")
        https = scope.get("scheme") == "https" or _forwarded_https(scope)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                policy = headers.get("Content-Security-Policy")
                if policy is None:
                    headers["Content-Security-Policy"] = FRAME_ANCESTORS
                elif "frame-ancestors" not in policy:
                    headers["Content-Security-Policy"] = f"{policy}; {FRAME_ANCESTORS}"
                if api:
                    headers.setdefault("Cache-Control", "no-store")
                if https and self.hsts:
                    headers.setdefault("Strict-Transport-Security", self.hsts)
            await send(message)

        await self.app(scope, receive, with_headers)


def _forwarded_https(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-proto":
            return bool(value.split(b",")[0].strip().lower() == b"https")
    return False
