"""SQL for idempotency keys: an advisory lock per key, lookup, and upsert of the response."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models.api import IdempotencyRecord


async def try_lock_key(session: AsyncSession, caller: str, key: str) -> bool:
    """Take a transaction-scoped advisory lock on (caller, key) without waiting.

    False means another transaction is processing the same key right now. The lock id is
    hashed here, not in SQL: PostgreSQL text cannot hold the NUL that separates the two parts.
    """
    digest = hashlib.sha256(f"{caller}\x00{key}".encode()).digest()
    lock_id = int.from_bytes(digest[:8], "big", signed=True)
    return bool(await session.scalar(select(func.pg_try_advisory_xact_lock(lock_id))))


async def find_live_record(
    session: AsyncSession, caller: str, key: str
) -> IdempotencyRecord | None:
    return await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.caller == caller,
            IdempotencyRecord.key == key,
            IdempotencyRecord.expires_at > func.now(),
        )
    )


async def save_record(
    session: AsyncSession,
    *,
    caller: str,
    key: str,
    fingerprint: str,
    status_code: int,
    body: bytes,
    withheld: bool,
    headers: dict[str, Any],
    expires_at: datetime,
) -> None:
    """Store the response; an expired record under the same key is replaced."""
    values = {
        "request_fingerprint": fingerprint,
        "status_code": status_code,
        "response_body": body,
        "response_withheld": withheld,
        "response_headers": headers,
        "created_at": func.now(),
        "expires_at": expires_at,
    }
    stmt = insert(IdempotencyRecord).values(caller=caller, key=key, **values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[IdempotencyRecord.caller, IdempotencyRecord.key], set_=values
        )
    )


async def purge_expired(session: AsyncSession) -> int:
    result = await session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= func.now())
    )
    return int(getattr(result, "rowcount", 0) or 0)
