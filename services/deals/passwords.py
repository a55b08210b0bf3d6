"""Password hashing (argon2 via pwdlib), off the event loop: a hash takes tens of ms."""

from __future__ import annotations

import asyncio

from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()
# Verified against when the e-mail is unknown, so both refusals take the same time.
_DUMMY = _hasher.hash("dealflow-timing-equalizer")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    """True when the password matches; with no hash, spend the time and say no."""
    if password_hash is None:
        await asyncio.to_thread(_hasher.verify, password, _DUMMY)
        return False
    return await asyncio.to_thread(_hasher.verify, password, password_hash)
