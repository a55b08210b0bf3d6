"""Signing in against the real stack: refresh tokens rotate and a reused one ends the
session, logout ends it at once, API tokens are scoped and revocable, and guessing
passwords is cut off per account."""

from __future__ import annotations

import uuid

import httpx

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually, problem

PASSWORD = "correct horse battery"


async def _user(admin: httpx.AsyncClient, role: str = "manager") -> str:
    email = f"{role}-{uuid.uuid4().hex[:8]}@auth.test"
    resp = await admin.post(
        "/users", json={"email": email, "name": role, "password": PASSWORD, "roles": [role]}
    )
    assert resp.status_code == 201, resp.text
    return email


async def _sign_in(api: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await api.post("/auth/token", data={"username": email, "password": password})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_refresh_rotates_and_a_reused_refresh_token_ends_the_session(
    stack: Stack, admin: httpx.AsyncClient
) -> None:
    email = await _user(admin)
    async with httpx.AsyncClient(base_url=stack.gateway_url + "/api/v1") as api:
        first = (await _sign_in(api, email)).json()
        second = await api.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert second.status_code == 200, second.text
        fresh = second.json()
        assert fresh["refresh_token"] != first["refresh_token"]
        assert (await api.get("/me", headers=_bearer(fresh["access_token"]))).status_code == 200

        # the old refresh token was copied by someone: using it ends the whole session
        reused = await api.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert reused.status_code == 401
        problem(reused)
        again = await api.post("/auth/refresh", json={"refresh_token": fresh["refresh_token"]})
        assert again.status_code == 401
        await until_refused(api, fresh["access_token"])


async def until_refused(api: httpx.AsyncClient, token: str) -> None:
    """A checked credential is trusted for GATEWAY_AUTH_CACHE_SECONDS (2 s) at most."""

    async def refused() -> bool:
        return (await api.get("/me", headers=_bearer(token))).status_code == 401

    await eventually(refused, timeout=5, what="the token to be refused")


async def test_logout_ends_the_session_at_once(stack: Stack, admin: httpx.AsyncClient) -> None:
    email = await _user(admin)
    async with httpx.AsyncClient(base_url=stack.gateway_url + "/api/v1") as api:
        tokens = (await _sign_in(api, email)).json()
        headers = _bearer(tokens["access_token"])
        assert (await api.get("/me", headers=headers)).status_code == 200
        assert (await api.post("/auth/logout", headers=headers)).status_code == 204
        assert (await api.get("/me", headers=headers)).status_code == 401
        refreshed = await api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 401


async def test_api_tokens_are_scoped_shown_once_and_revocable(
    stack: Stack, admin: httpx.AsyncClient
) -> None:
    created = await admin.post("/api-tokens", json={"name": "BI export", "scopes": ["read"]})
    assert created.status_code == 201, created.text
    token = created.json()
    assert token["token"].startswith("dfk_")
    listed = (await admin.get("/api-tokens")).json()
    assert all(t["token"] is None for t in listed)
    assert token["id"] in {t["id"] for t in listed}

    async with httpx.AsyncClient(
        base_url=stack.gateway_url + "/api/v1", headers=_bearer(token["token"])
    ) as bi:
        assert (await bi.get("/deals")).status_code == 200
        write = await bi.post("/departments", json={"name": "x"})
        assert write.status_code == 403
        assert problem(write)["detail"] == "this API token may only read"

        assert (await admin.delete(f"/api-tokens/{token['id']}")).status_code == 200
        await until_refused(bi, token["token"])


async def test_guessing_passwords_is_cut_off_per_account(
    stack: Stack, admin: httpx.AsyncClient
) -> None:
    email = await _user(admin)
    async with httpx.AsyncClient(base_url=stack.gateway_url + "/api/v1") as api:
        for _ in range(5):
            assert (await _sign_in(api, email, "wrong password")).status_code == 401
        refused = await _sign_in(api, email)  # even the right password, for a while
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 0
        problem(refused)
        # other accounts from the same address still sign in
        assert (await _sign_in(api, await _user(admin))).status_code == 200
    user = (await admin.get("/users", params={"q": email})).json()["items"][0]
    failed = (
        await admin.get(
            "/audit", params={"action": "auth.sign_in_failed", "subject_id": user["id"]}
        )
    ).json()["items"]
    assert len(failed) == 5
