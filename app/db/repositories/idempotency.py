"""SQL for idempotency keys: an advisory lock per key, lookup, and upsert of the response."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models.api import IdempotencyRecord
from app.db.prepared import Prepared, as_json


@dataclass(frozen=True, slots=True)
class StoredResponse:
    request_fingerprint: str
    status_code: int
    response_body: bytes
    response_headers: dict[str, Any]
    response_withheld: bool


_LOCK = Prepared(select(func.pg_try_advisory_xact_lock(bindparam("lock_id", type_=BigInteger))))
_LIVE = Prepared(
    select(*(IdempotencyRecord.__table__.c[f.name] for f in fields(StoredResponse))).where(
        IdempotencyRecord.caller == bindparam("caller"),
        IdempotencyRecord.key == bindparam("key"),
        IdempotencyRecord.expires_at > func.now(),
    )
)
_STORED = {
    "request_fingerprint", "status_code", "response_body", "response_withheld",
    "response_headers", "expires_at",
}  # fmt: skip
_insert = insert(IdempotencyRecord).values(
    {c.name: bindparam(c.name, type_=c.type) for c in IdempotencyRecord.__table__.c}
    | {"created_at": func.now()}
)
_SAVE = Prepared(
    _insert.on_conflict_do_update(
        index_elements=[IdempotencyRecord.caller, IdempotencyRecord.key],
        set_={name: _insert.excluded[name] for name in _STORED} | {"created_at": func.now()},
    )
)


async def try_lock_key(session: AsyncSession, caller: str, key: str) -> bool:
    """Take a transaction-scoped advisory lock on (caller, key) without waiting.

    False means another transaction is processing the same key right now. The lock id is
    hashed here, not in SQL: PostgreSQL text cannot hold the NUL that separates the two parts.
    """
    digest = hashlib.sha256(f"{caller}\x00{key}".encode()).digest()
    lock_id = int.from_bytes(digest[:8], "big", signed=True)
    return bool(await _LOCK.scalar(session, lock_id=lock_id))


async def find_live_record(session: AsyncSession, caller: str, key: str) -> StoredResponse | None:
    row = await _LIVE.one_or_none(session, caller=caller, key=key)
    return None if row is None else StoredResponse(**row)


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
    await _SAVE.execute(
        session,
        caller=caller,
        key=key,
        request_fingerprint=fingerprint,
        status_code=status_code,
        response_body=body,
        response_withheld=withheld,
        response_headers=as_json(headers),
        expires_at=expires_at,
    )


async def purge_expired(session: AsyncSession) -> int:
    result = await session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= func.now())
    )
    return int(getattr(result, "rowcount", 0) or 0)
