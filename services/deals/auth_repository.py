"""Sessions, API tokens and failed sign-ins (SQLAlchemy Core). Secrets are stored as
SHA-256 digests only."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.deals.tables import api_tokens, login_failures, sessions, used_refresh_tokens


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class SessionRow:
    id: str
    user_id: int
    expires_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class ApiTokenRow:
    id: int
    user_id: int
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


# ---- failed sign-ins ----
async def count_failures(
    conn: AsyncConnection, *, email: str, address: str, since: datetime
) -> tuple[int, int]:
    """Failures since `since` for the account and for the client address."""
    recent = login_failures.c.at >= since
    by_email = sa.select(sa.func.count()).where(recent, login_failures.c.email == email)
    by_address = sa.select(sa.func.count()).where(
        recent, login_failures.c.client_address == address
    )
    return (
        int((await conn.execute(by_email)).scalar_one()),
        int((await conn.execute(by_address)).scalar_one()) if address else 0,
    )


async def add_failure(conn: AsyncConnection, *, email: str, address: str, at: datetime) -> None:
    await conn.execute(login_failures.insert().values(email=email, client_address=address, at=at))


async def purge_failures(conn: AsyncConnection, *, before: datetime) -> None:
    await conn.execute(sa.delete(login_failures).where(login_failures.c.at < before))


# ---- sessions ----
async def insert_session(
    conn: AsyncConnection, *, id: str, user_id: int, refresh: str, now: datetime, expires: datetime
) -> None:
    await conn.execute(
        sessions.insert().values(
            id=id, user_id=user_id, refresh_hash=digest(refresh), created_at=now, expires_at=expires
        )
    )


async def session_by_refresh(conn: AsyncConnection, refresh: str) -> SessionRow | None:
    query = sa.select(sessions).where(sessions.c.refresh_hash == digest(refresh)).with_for_update()
    row = (await conn.execute(query)).first()
    return _session(row) if row else None


async def session_of_used_refresh(conn: AsyncConnection, refresh: str) -> str | None:
    query = sa.select(used_refresh_tokens.c.session_id).where(
        used_refresh_tokens.c.refresh_hash == digest(refresh)
    )
    return (await conn.execute(query)).scalar_one_or_none()


async def rotate_refresh(
    conn: AsyncConnection, *, session_id: str, old: str, new: str, expires: datetime
) -> None:
    await conn.execute(
        used_refresh_tokens.insert().values(refresh_hash=digest(old), session_id=session_id)
    )
    await conn.execute(
        sessions.update()
        .where(sessions.c.id == session_id)
        .values(refresh_hash=digest(new), expires_at=expires)
    )


async def get_session(conn: AsyncConnection, session_id: str) -> SessionRow | None:
    row = (await conn.execute(sa.select(sessions).where(sessions.c.id == session_id))).first()
    return _session(row) if row else None


async def revoke_session(conn: AsyncConnection, session_id: str, now: datetime) -> bool:
    query = (
        sessions.update()
        .where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(sessions.c.id)
    )
    return (await conn.execute(query)).first() is not None


def _session(row: Any) -> SessionRow:
    return SessionRow(row.id, row.user_id, row.expires_at, row.revoked_at)


# ---- API tokens ----
async def insert_token(
    conn: AsyncConnection,
    *,
    user_id: int,
    name: str,
    scopes: tuple[str, ...],
    secret: str,
    now: datetime,
    expires: datetime | None,
) -> ApiTokenRow:
    row = (
        await conn.execute(
            api_tokens.insert()
            .values(
                user_id=user_id,
                name=name,
                scopes=list(scopes),
                token_hash=digest(secret),
                created_at=now,
                expires_at=expires,
            )
            .returning(api_tokens)
        )
    ).one()
    return _token(row)


async def tokens_of(conn: AsyncConnection, user_id: int) -> list[ApiTokenRow]:
    query = sa.select(api_tokens).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.id)
    return [_token(r) for r in (await conn.execute(query)).all()]


async def get_token(conn: AsyncConnection, token_id: int) -> ApiTokenRow | None:
    row = (await conn.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id))).first()
    return _token(row) if row else None


async def token_by_secret(conn: AsyncConnection, secret: str, now: datetime) -> ApiTokenRow | None:
    """The token with this secret, its last use stamped."""
    query = (
        api_tokens.update()
        .where(api_tokens.c.token_hash == digest(secret))
        .values(last_used_at=now)
        .returning(api_tokens)
    )
    row = (await conn.execute(query)).first()
    return _token(row) if row else None


async def revoke_token(conn: AsyncConnection, token_id: int, now: datetime) -> ApiTokenRow | None:
    query = (
        api_tokens.update()
        .where(api_tokens.c.id == token_id)
        .values(revoked_at=sa.func.coalesce(api_tokens.c.revoked_at, now))
        .returning(api_tokens)
    )
    row = (await conn.execute(query)).first()
    return _token(row) if row else None


def _token(row: Any) -> ApiTokenRow:
    return ApiTokenRow(
        row.id,
        row.user_id,
        row.name,
        tuple(row.scopes),
        row.created_at,
        row.expires_at,
        row.revoked_at,
        row.last_used_at,
    )
