"""Queries for principals, users, clients, refresh tokens and login throttling.

Reads that answer requests are single Core statements on a connection (a user comes with its
roles in the same row); the ORM loads what a change is about to modify.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, case, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import selectinload

from app.db.keyset import KeysetQuery, PageRequest
from app.db.models.identity import Client, LoginThrottle, Principal, RefreshToken, User, UserRole
from app.db.prepared import Prepared

_USER_ROLES = func.coalesce(
    select(func.array_agg(aggregate_order_by(UserRole.role, UserRole.role)))
    .where(UserRole.user_id == User.id)
    .scalar_subquery(),
    literal([], ARRAY(String)),
).label("roles")
_USER_COLUMNS = [c for c in User.__table__.c if c.key != "password_hash"]
_USER_ROW = select(*_USER_COLUMNS, _USER_ROLES)
_CLIENT_ROW = select(*(c for c in Client.__table__.c if c.key != "secret_hash"))
_USER_BY_ID = Prepared(_USER_ROW.where(User.id == bindparam("user_id")))
_CLIENT_BY_ID = Prepared(_CLIENT_ROW.where(Client.id == bindparam("client_id")))
_USERS = KeysetQuery(_USER_ROW, stamp=User.updated_at, ident=User.id)
_CLIENTS = KeysetQuery(_CLIENT_ROW, stamp=Client.updated_at, ident=Client.id)
_TOKEN_GENERATION = Prepared(
    select(Principal.token_generation).where(
        Principal.id == bindparam("principal_id"), Principal.kind == bindparam("kind")
    )
)


async def add_principal(session: AsyncSession, principal_id: uuid.UUID, kind: str) -> None:
    """Claims the id for a person or a client; IntegrityError when either already has it."""
    await session.execute(insert(Principal).values(id=principal_id, kind=kind))


async def token_generation(
    reader: AsyncConnection, principal_id: uuid.UUID, kind: str
) -> int | None:
    generation: int | None = await _TOKEN_GENERATION.scalar(
        reader, principal_id=principal_id, kind=kind
    )
    return generation


async def lock_token_generation(
    session: AsyncSession, principal_id: uuid.UUID, kind: str
) -> int | None:
    """The current generation, after any revocation in progress; revocations wait for us."""
    call = func.auth_current_token_generation(principal_id, kind)
    result = await session.execute(select(call))
    generation: int | None = result.scalar_one()
    return generation


async def revoke_tokens(session: AsyncSession, principal_id: uuid.UUID) -> None:
    await session.execute(select(func.auth_revoke_tokens(principal_id)))


async def user_row(reader: AsyncConnection, user_id: uuid.UUID) -> Mapping[str, Any] | None:
    """The user's columns (no password hash) and `roles`, sorted, in one statement."""
    return await _USER_BY_ID.one_or_none(reader, user_id=user_id)


async def user_rows(
    reader: AsyncConnection, page: PageRequest
) -> tuple[list[dict[str, Any]], str | None]:
    return await _USERS.page(reader, page)


async def client_row(reader: AsyncConnection, client_id: uuid.UUID) -> Mapping[str, Any] | None:
    """The client's columns, without the secret hash."""
    return await _CLIENT_BY_ID.one_or_none(reader, client_id=client_id)


async def client_rows(
    reader: AsyncConnection, page: PageRequest
) -> tuple[list[dict[str, Any]], str | None]:
    return await _CLIENTS.page(reader, page)


async def load_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.scalar(
        select(User).where(User.id == user_id).options(selectinload(User.role_rows))
    )


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(
        select(User).where(User.email == email).options(selectinload(User.role_rows))
    )


async def load_client(session: AsyncSession, client_id: uuid.UUID) -> Client | None:
    return await session.get(Client, client_id)


async def client_name_taken(session: AsyncSession, name: str) -> bool:
    return bool(await session.scalar(select(func.count()).where(Client.name == name)))


async def client_id_by_name(session: AsyncSession, name: str) -> uuid.UUID | None:
    found: uuid.UUID | None = await session.scalar(select(Client.id).where(Client.name == name))
    return found


async def find_refresh_token_for_update(
    session: AsyncSession, token_hash: str
) -> RefreshToken | None:
    """Locks the row, so two concurrent uses of one refresh token cannot both succeed."""
    return await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
    )


async def revoke_refresh_family(session: AsyncSession, family_id: uuid.UUID) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


async def serialize_attempts(session: AsyncSession, key: str) -> None:
    """Wait for other sign-in attempts under the same throttle key (an account, a source
    address) until this transaction ends, so a burst of guesses cannot all pass the throttle
    before the first failure is counted."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 1))))


async def throttle_states(session: AsyncSession, keys: Sequence[str]) -> Sequence[LoginThrottle]:
    return (await session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys)))).all()


async def count_login_failure(
    session: AsyncSession, key: str, now: datetime, window_start_cutoff: datetime
) -> None:
    """Add one failure; a window that started before the cutoff starts over."""
    stmt = insert(LoginThrottle).values(key=key, failures=1, window_started_at=now)
    expired = LoginThrottle.window_started_at < window_start_cutoff
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={
                "failures": case((expired, 1), else_=LoginThrottle.failures + 1),
                "window_started_at": case((expired, now), else_=LoginThrottle.window_started_at),
            },
        )
    )


async def clear_login_failures(session: AsyncSession, key: str) -> None:
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


async def purge_login_throttles(session: AsyncSession, window_start_cutoff: datetime) -> int:
    result = await session.execute(
        delete(LoginThrottle).where(LoginThrottle.window_started_at < window_start_cutoff)
    )
    return _rowcount(result)


async def purge_refresh_tokens(session: AsyncSession, now: datetime) -> int:
    """Expired tokens can never be used again; their rows only keep personal data around."""
    result = await session.execute(delete(RefreshToken).where(RefreshToken.expires_at < now))
    return _rowcount(result)


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
