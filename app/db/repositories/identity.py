"""Queries for users, clients, refresh tokens and login throttling."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.db.keyset import PageRequest, fetch_page
from app.db.models.identity import Client, LoginThrottle, RefreshToken, User


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.scalar(
        select(User).where(User.id == user_id).options(selectinload(User.role_rows))
    )


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(
        select(User).where(User.email == email).options(selectinload(User.role_rows))
    )


async def user_exists(session: AsyncSession, user_id: uuid.UUID, email: str) -> bool:
    found = await session.scalar(
        select(func.count()).select_from(User).where((User.id == user_id) | (User.email == email))
    )
    return bool(found)


async def list_users(session: AsyncSession, page: PageRequest) -> tuple[Sequence[User], str | None]:
    stmt = select(User).options(selectinload(User.role_rows))
    return await fetch_page(session, stmt, page=page, stamp=User.updated_at, ident=User.id)


async def get_client(session: AsyncSession, client_id: uuid.UUID) -> Client | None:
    return await session.get(Client, client_id)


async def client_exists(session: AsyncSession, client_id: uuid.UUID, name: str) -> bool:
    found = await session.scalar(
        select(func.count())
        .select_from(Client)
        .where((Client.id == client_id) | (Client.name == name))
    )
    return bool(found)


async def client_name_taken(session: AsyncSession, name: str) -> bool:
    return bool(await session.scalar(select(func.count()).where(Client.name == name)))


async def list_clients(
    session: AsyncSession, page: PageRequest
) -> tuple[Sequence[Client], str | None]:
    return await fetch_page(
        session, select(Client), page=page, stamp=Client.updated_at, ident=Client.id
    )


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


async def revoke_refresh_tokens_of_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
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
