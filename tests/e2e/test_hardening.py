"""Credentials that must not work, uploads that must not run in a browser, the per-user
limit on expensive calls and the security headers, through the whole stack."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually, login, problem
from tests.e2e.test_deals_flow import create_user, sales_pipeline


def _b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def _claims(user_id: int, **extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "sub": str(user_id),
        "sid": "x",
        "roles": ["admin"],
        "iss": "dealflow-gateway",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        **extra,
    }


async def _refused(stack: Stack, bearer: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=stack.gateway_url + "/api/v1", timeout=30) as anon:
        return await anon.get("/me", headers={"Authorization": f"Bearer {bearer}"})


async def test_forged_expired_and_misused_credentials_are_401(
    stack: Stack, admin: httpx.AsyncClient
) -> None:
    me = (await admin.get("/me")).json()["id"]
    secret = json.loads((stack.data_dir / "secrets.json").read_text())["jwt_secret"]
    unsigned = (
        _b64({"alg": "none", "typ": "JWT"})
        + "."
        + _b64(
            {
                k: (int(v.timestamp()) if isinstance(v, datetime) else v)
                for k, v in _claims(me).items()
            }
        )
    )
    expired = _claims(me, exp=datetime.now(UTC) - timedelta(minutes=1))
    signed_in = await admin.post(
        "/auth/token", data={"username": stack.admin_email, "password": stack.admin_password}
    )
    cases = {
        "alg none": unsigned + ".",
        "alg none, no signature part": unsigned,
        "a wrong key": jwt.encode(_claims(me), "another secret of 32 characters!!", "HS256"),
        "expired": jwt.encode(expired, secret, "HS256"),
        "a refresh token": signed_in.json()["refresh_token"],
        "garbage": "dfk_" + uuid.uuid4().hex,
    }
    for what, bearer in cases.items():
        resp = await _refused(stack, bearer)
        assert resp.status_code == 401, f"{what}: {resp.status_code} {resp.text}"
        problem(resp)
    assert (await _refused(stack, jwt.encode(_claims(me), secret, "HS256"))).status_code == 401, (
        "even the right key needs a live session"
    )

    token = (await admin.post("/api-tokens", json={"name": "revoked"})).json()
    assert (await _refused(stack, token["token"])).status_code == 200
    assert (await admin.delete(f"/api-tokens/{token['id']}")).status_code == 200

    async def revoked() -> bool:
        return (await _refused(stack, token["token"])).status_code == 401

    await eventually(revoked, timeout=10, what="the revoked API token refused")


async def _upload(
    admin: httpx.AsyncClient, deal_id: int, name: str, body: bytes, kind: str
) -> httpx.Response:
    """A multipart upload written by hand: httpx would percent-encode the control
    characters of the name, and a hostile client sends them raw."""
    boundary = uuid.uuid4().hex
    raw = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="deal_id"\r\n\r\n{deal_id}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: {kind}\r\n\r\n"
        ).encode()
        + body
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    return await admin.post("/files", content=raw, headers=headers)


async def test_active_content_is_served_as_an_inert_attachment(admin: httpx.AsyncClient) -> None:
    pipeline = await sales_pipeline(admin)
    deal = (await admin.post("/deals", json={"pipeline_id": pipeline["id"], "title": "F"})).json()
    html = b"<html><body><script>alert(document.cookie)</script></body></html>"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    refused = await _upload(admin, deal["id"], "x.svg", svg, "image/svg+xml")
    assert refused.status_code == 415, "an SVG is not an accepted upload"
    for name, body, kind in (
        ("page.html", html, "text/plain"),
        ("image.svg", svg, "application/octet-stream"),
        ("../../../etc/passwd", b"root:x:0:0", "text/plain"),
        ("re\tport\x07\x1b\u202e.txt", b"text", "text/plain"),
    ):
        made = await _upload(admin, deal["id"], name, body, kind)
        assert made.status_code == 201, made.text
        stored = made.json()["name"]
        assert "/" not in stored and "\\" not in stored and stored.isprintable(), stored
        got = await admin.get(f"/files/{made.json()['id']}/content")
        assert got.status_code == 200
        assert got.content == body
        assert got.headers["X-Content-Type-Options"] == "nosniff"
        assert got.headers["Content-Disposition"].startswith('attachment; filename="')
        assert "filename*=UTF-8''" in got.headers["Content-Disposition"]
        assert "sandbox" in got.headers["Content-Security-Policy"]
        assert not got.headers["content-type"].startswith(("text/html", "image/svg"))
    assert stored == "re port.txt"


async def test_expensive_calls_are_limited_per_user(stack: Stack, admin: httpx.AsyncClient) -> None:
    # a role of its own: a second "ceo" would join every chain that asks all CEOs
    role = f"reporter_{uuid.uuid4().hex[:6]}"
    made = await admin.put(
        f"/roles/{role}", json={"visibility": "all", "permissions": ["reports.margin"]}
    )
    assert made.status_code in (200, 201), made.text
    ceo = await create_user(admin, role)
    client = await login(stack.gateway_url, ceo["email"], ceo["password"])
    other = await create_user(admin, role)
    bystander = await login(stack.gateway_url, other["email"], other["password"])
    try:
        period = {"date_from": "2026-01-01", "date_to": "2026-12-31"}
        answers = [(await client.get("/reports/margin", params=period)) for _ in range(40)]
        statuses = [r.status_code for r in answers]
        assert statuses[0] == 200 and 429 in statuses, statuses
        limited = answers[statuses.index(429)]
        assert int(limited.headers["Retry-After"]) >= 1
        problem(limited)
        searched = await client.get("/deals", params={"q": "acme"})
        assert searched.status_code == 429, "searches share the bucket"
        assert (await client.get("/deals")).status_code == 200, "a plain list is not limited"
        assert (await bystander.get("/reports/margin", params=period)).status_code == 200
    finally:
        await client.aclose()
        await bystander.aclose()


@pytest.mark.parametrize("path", ["/healthz", "/openapi.json", "/api/v1/me", "/api/v1/nowhere"])
async def test_security_headers_on_every_answer(stack: Stack, path: str) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as anon:
        resp = await anon.get(path)
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        if path.startswith("/api/"):
            assert resp.headers["Cache-Control"] == "no-store"
        proxied = await anon.get(path, headers={"X-Forwarded-Proto": "https"})
        assert "max-age=" in proxied.headers["Strict-Transport-Security"]
