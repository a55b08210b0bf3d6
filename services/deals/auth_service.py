"""Use cases of signing in: passwords with a limit on failures, sessions with rotating
refresh tokens, API tokens for integrations, and reading the audit log."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.access import Permission
from services.common.db import UnitOfWork, utcnow
from services.common.errors import (
    FieldProblem,
    NotFound,
    TooManyAttempts,
    Unauthenticated,
    ValidationFailed,
)
from services.common.pagination import Page, decode_cursor
from services.deals import audit, org_repository
from services.deals import auth_repository as repo
from services.deals.access_service import deal_access
from services.deals.audit import AuditEntry, AuditFilter, record
from services.deals.domain.org import User, normalize_email
from services.deals.passwords import verify_password
from services.deals.tables import outbox

BAD_CREDENTIALS = "wrong e-mail or password"
TOKEN_PREFIX = "dfk_"
SCOPES = ("read", "write", "leads")  # leads: POST /lead-capture and nothing else


@dataclass(frozen=True)
class Limits:
    """Failed sign-ins allowed per account and per client address within `window`."""

    per_account: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)
    refresh_lifetime: timedelta = timedelta(days=14)


@dataclass(frozen=True)
class NewSession:
    id: str
    user: User
    refresh_token: str
    expires_at: datetime


class AuthService:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Callable[[], datetime] = utcnow,
        limits: Limits | None = None,
    ) -> None:
        self._engine = engine
        self._now = clock
        self._limits = limits or Limits()

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, outbox)

    async def authenticate(self, *, email: str, password: str, client_address: str) -> User:
        """The active user with these credentials; one answer for every wrong guess, and
        a 'too many attempts' refusal past the limits (even for the right password)."""
        email = normalize_email(email)
        now = self._now()
        async with self._engine.connect() as conn:
            per_account, per_address = await repo.count_failures(
                conn, email=email, address=client_address, since=now - self._limits.window
            )
            found = await org_repository.user_with_hash(conn, email)
        if per_account >= self._limits.per_account or per_address >= self._limits.per_address:
            error = TooManyAttempts("too many failed sign-ins; try again later")
            error.retry_after_seconds = int(self._limits.window.total_seconds())
            raise error
        ok = await verify_password(password, found[1] if found else None)
        user = found[0] if found else None
        async with self._uow() as uow:
            if user is None or not ok or not user.active:
                await repo.add_failure(uow.conn, email=email, address=client_address, at=now)
                await repo.purge_failures(uow.conn, before=now - 4 * self._limits.window)
            signed_in = user is not None and ok and user.active
            await record(
                uow.conn,
                at=now,
                actor_id=user.id if user is not None and signed_in else None,
                action="auth.sign_in" if signed_in else "auth.sign_in_failed",
                subject=("user", user.id) if user is not None else ("email", email),
                client_address=client_address,
            )
        if user is None or not ok or not user.active:
            raise Unauthenticated(BAD_CREDENTIALS)
        return user

    # ---- sessions ----
    async def start_session(self, *, user_id: int) -> NewSession:
        """A session for a signed-in user, with its first refresh token."""
        now = self._now()
        session_id, refresh = secrets.token_urlsafe(16), secrets.token_urlsafe(32)
        expires = now + self._limits.refresh_lifetime
        async with self._uow() as uow:
            user = await org_repository.get_user(uow.conn, user_id)
            if user is None or not user.active:
                raise Unauthenticated("the user does not exist or is not active")
            await repo.insert_session(
                uow.conn, id=session_id, user_id=user_id, refresh=refresh, now=now, expires=expires
            )
        return NewSession(session_id, user, refresh, expires)

    async def refresh(self, *, refresh_token: str) -> NewSession:
        """A new refresh token for the session (the old one stops working); reusing an old
        one means it was copied, so the whole session ends."""
        now = self._now()
        new = secrets.token_urlsafe(32)
        expires = now + self._limits.refresh_lifetime
        async with self._uow() as uow:
            session = await repo.session_by_refresh(uow.conn, refresh_token)
            if session is not None:
                user = await org_repository.get_user(uow.conn, session.user_id)
                if session.revoked_at or session.expires_at <= now or not (user and user.active):
                    raise Unauthenticated("the session has ended")
                await repo.rotate_refresh(
                    uow.conn, session_id=session.id, old=refresh_token, new=new, expires=expires
                )
                return NewSession(session.id, user, new, expires)
        if await self._end_reused_session(refresh_token, now):
            raise Unauthenticated("the refresh token was already used")
        raise Unauthenticated("the refresh token is not valid")

    async def _end_reused_session(self, refresh_token: str, now: datetime) -> bool:
        """A rotated-out refresh token presented again was copied: end its session (in a
        transaction of its own, so the refusal that follows does not undo it)."""
        async with self._uow() as uow:
            reused = await repo.session_of_used_refresh(uow.conn, refresh_token)
            if reused is None or not await repo.revoke_session(uow.conn, reused, now):
                return False
            await record(
                uow.conn,
                at=now,
                actor_id=None,
                action="auth.refresh_reused",
                subject=("session", reused),
            )
            return True

    async def end_session(self, *, session_id: str, actor_id: int | None) -> None:
        """Sign out: the session's tokens stop working."""
        async with self._uow() as uow:
            session = await repo.get_session(uow.conn, session_id)
            if session is None or (actor_id is not None and session.user_id != actor_id):
                raise NotFound("session not found")
            if await repo.revoke_session(uow.conn, session_id, self._now()):
                await record(
                    uow.conn,
                    at=self._now(),
                    actor_id=actor_id,
                    action="auth.sign_out",
                    subject=("session", session_id),
                )

    async def check_session(self, *, session_id: str, user_id: int) -> None:
        """Unauthenticated unless the session is the user's and still open."""
        async with self._engine.connect() as conn:
            session = await repo.get_session(conn, session_id)
        if (
            session is None
            or session.user_id != user_id
            or session.revoked_at is not None
            or session.expires_at <= self._now()
        ):
            raise Unauthenticated("the session has ended")

    # ---- API tokens ----
    async def create_api_token(
        self, *, actor_id: int | None, user_id: int, name: str, scopes: list[str], days: int
    ) -> tuple[repo.ApiTokenRow, str]:
        """A token for an integration; its secret is returned once and stored hashed."""
        name = name.strip()
        problems = []
        if not 1 <= len(name) <= 200:
            problems.append(FieldProblem("name", "must be 1 to 200 characters"))
        clean = tuple(dict.fromkeys(scopes)) or ("read",)
        problems += [
            FieldProblem("scopes", f"unknown scope {s!r}; use read, write or leads")
            for s in clean
            if s not in SCOPES
        ]
        if not 0 <= days <= 3650:
            problems.append(FieldProblem("days", "must be 0 (no expiry) to 3650"))
        if problems:
            raise ValidationFailed(problems)
        now = self._now()
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        async with self._uow() as uow:
            await _require_self_or_admin(uow, actor_id, user_id)
            if await org_repository.get_user(uow.conn, user_id) is None:
                raise NotFound(f"user {user_id} not found")
            token = await repo.insert_token(
                uow.conn,
                user_id=user_id,
                name=name,
                scopes=clean,
                secret=secret,
                now=now,
                expires=now + timedelta(days=days) if days else None,
            )
            await record(
                uow.conn,
                at=now,
                actor_id=actor_id,
                action="api_tokens.create",
                subject=("api_token", token.id),
                after={"user_id": user_id, "name": name, "scopes": list(clean)},
            )
        return token, secret

    async def list_api_tokens(
        self, *, actor_id: int | None, user_id: int
    ) -> list[repo.ApiTokenRow]:
        """A user's tokens (never their secrets)."""
        async with self._uow() as uow:
            await _require_self_or_admin(uow, actor_id, user_id)
            return await repo.tokens_of(uow.conn, user_id)

    async def revoke_api_token(self, *, actor_id: int | None, token_id: int) -> repo.ApiTokenRow:
        """The token stops working at once."""
        async with self._uow() as uow:
            token = await repo.get_token(uow.conn, token_id)
            if token is None:
                raise NotFound(f"API token {token_id} not found")
            await _require_self_or_admin(uow, actor_id, token.user_id, hide=True)
            revoked = await repo.revoke_token(uow.conn, token_id, self._now())
            assert revoked is not None
            await record(
                uow.conn,
                at=self._now(),
                actor_id=actor_id,
                action="api_tokens.revoke",
                subject=("api_token", token_id),
            )
            return revoked

    async def verify_api_token(self, *, secret: str) -> repo.ApiTokenRow:
        """The live token with this secret, or Unauthenticated."""
        now = self._now()
        async with self._uow() as uow:
            token = await repo.token_by_secret(uow.conn, secret, now) if secret else None
            user = await org_repository.get_user(uow.conn, token.user_id) if token else None
        if (
            token is None
            or token.revoked_at is not None
            or (token.expires_at is not None and token.expires_at <= now)
            or user is None
            or not user.active
        ):
            raise Unauthenticated("the API token is not valid")
        return token

    # ---- audit ----
    async def audit_entries(
        self, *, actor_id: int | None, where: AuditFilter, cursor: str, limit: int
    ) -> Page[AuditEntry]:
        """The audit log, newest first; for those with audit.read."""
        before = decode_cursor(cursor) if cursor else None
        async with self._uow() as uow:
            if actor_id is not None:
                (await deal_access(uow.conn, actor_id)).access.require(Permission.AUDIT_READ)
            rows = await audit.entries(uow.conn, where, before_id=before, limit=limit + 1)
        return Page.of(rows, limit, key=lambda e: e.id)


async def _require_self_or_admin(
    uow: UnitOfWork, actor_id: int | None, user_id: int, *, hide: bool = False
) -> None:
    if actor_id is None or actor_id == user_id:
        return
    access = (await deal_access(uow.conn, actor_id)).access
    if not access.is_admin:
        if hide:
            raise NotFound("not found")
        access.require(Permission.ORG_ADMIN, "only an admin manages other users' tokens")
