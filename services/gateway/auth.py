"""Bearer credentials: short-lived HS256 access JWTs bound to a session (signed in with a
password, refreshed with a rotating refresh token, ended by logout), and API tokens for
integrations. Either way the caller becomes a `Principal` whose rights come from the deals
service, checked again every few seconds so that a logout, a revocation or a role change
takes effect at once."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from services.common.access import Permission, Scope
from services.gateway.problems import unauthenticated

ALGORITHM = "HS256"
ISSUER = "dealflow-gateway"
API_TOKEN_PREFIX = "dfk_"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user id every gRPC call carries as actor, their roles and
    permissions, the session (for logout) and the scopes of an API token."""

    id: int
    roles: frozenset[str]
    permissions: frozenset[str] = frozenset()
    session_id: str = ""
    scopes: frozenset[str] = frozenset({"read", "write"})
    # whose records the user sees (the default visibility of their roles)
    scope: Scope = field(default_factory=lambda: Scope.only())
    # deals of these pipelines are seen by their own rule (Access.deal_pipelines)
    deal_pipelines: Mapping[int, Scope] = field(default_factory=dict, hash=False, compare=False)

    def sees_deal(self, *, pipeline_id: int, responsible_id: int | None) -> bool:
        """The rule deal lists filter by, for one deal (live events use it)."""
        return self.deal_pipelines.get(pipeline_id, self.scope).sees(responsible_id)

    @property
    def is_admin(self) -> bool:
        return str(Permission.ORG_ADMIN) in self.permissions

    def can(self, permission: Permission) -> bool:
        return str(permission) in self.permissions


@dataclass(frozen=True)
class Claims:
    user_id: int
    session_id: str
    roles: frozenset[str]


def issue_token(
    principal: Principal, *, secret: str, minutes: int, now: datetime | None = None
) -> str:
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": str(principal.id),
        "sid": principal.session_id,
        "roles": sorted(principal.roles),
        "iss": ISSUER,
        "iat": issued,
        "exp": issued + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


# Tokens whose signature was verified, with their claims and expiry: every request of a
# session carries the same token, and verifying it again was ≈ 8 % of the gateway's CPU.
_VERIFIED: dict[tuple[str, str], tuple[Claims, float]] = {}
_VERIFIED_MAX = 10_000


def decode_token(token: str, *, secret: str) -> Claims:
    """The claims of a valid access token; a 401 problem for anything else."""
    known = _VERIFIED.get((secret, token))
    if known is not None and time.time() < known[1]:
        return known[0]
    claims = _verify(token, secret)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[(secret, token)] = claims
    return claims[0]


def _verify(token: str, secret: str) -> tuple[Claims, float]:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["sub", "exp", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise unauthenticated("the token has expired") from None
    except jwt.InvalidTokenError:
        raise unauthenticated("the token is not valid") from None
    sub, roles, sid = claims.get("sub"), claims.get("roles", []), claims.get("sid", "")
    if (
        not isinstance(sub, str)
        or not sub.isdigit()
        or not isinstance(roles, list)
        or not isinstance(sid, str)
    ):
        raise unauthenticated("the token is not valid")
    return Claims(int(sub), sid, frozenset(str(r) for r in roles)), float(claims["exp"])


Resolve = Callable[[], Awaitable[Principal]]


class PrincipalCache:
    """Principals by credential for `ttl` seconds, so that every request does not ask the
    deals service again; `forget` drops one at once (logout on this replica)."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._items: dict[str, tuple[float, Principal]] = {}

    async def get(self, credential: str, resolve: Resolve) -> Principal:
        key = hashlib.sha256(credential.encode()).hexdigest()
        now = self._clock()
        hit = self._items.get(key)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        principal = await resolve()
        if len(self._items) > 50_000:
            self._items.clear()
        self._items[key] = (now, principal)
        return principal

    def forget(self, credential: str) -> None:
        self._items.pop(hashlib.sha256(credential.encode()).hexdigest(), None)
