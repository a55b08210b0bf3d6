"""Bearer tokens: HS256 JWTs carrying the user id and roles, issued after the deals
service checked the password."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from services.gateway.problems import unauthenticated

ALGORITHM = "HS256"
ISSUER = "dealflow-gateway"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user id every gRPC call carries as actor, and their roles."""

    id: int
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


def issue_token(
    principal: Principal, *, secret: str, minutes: int, now: datetime | None = None
) -> str:
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": str(principal.id),
        "roles": sorted(principal.roles),
        "iss": ISSUER,
        "iat": issued,
        "exp": issued + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(token: str, *, secret: str) -> Principal:
    """The principal of a valid token; a 401 problem for anything else."""
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
    sub, roles = claims.get("sub"), claims.get("roles", [])
    if not isinstance(sub, str) or not sub.isdigit() or not isinstance(roles, list):
        raise unauthenticated("the token is not valid")
    return Principal(id=int(sub), roles=frozenset(str(r) for r in roles))
