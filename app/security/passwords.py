"""Password and client-secret hashing with argon2 (pwdlib), off the event loop."""

from __future__ import annotations

import secrets

import anyio
from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()
# Verified against when the account does not exist, so both cases cost the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


async def hash_secret(plain: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, plain)


async def verify_secret(plain: str, hashed: str | None) -> bool:
    """False for a wrong secret or a missing account, in about the same time."""
    ok = await anyio.to_thread.run_sync(_hasher.verify, plain, hashed or _DUMMY_HASH)
    return bool(ok) and hashed is not None


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)
