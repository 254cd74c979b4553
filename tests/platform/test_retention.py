from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import IdempotencyRecord, LoginThrottle, RefreshToken
from app.domain.retention import purge_expired_records
from tests.factories.identity import make_user

NOW = datetime.now(UTC)
WINDOW = timedelta(minutes=15)


async def test_purge_deletes_only_what_has_expired(session: AsyncSession) -> None:
    user = await make_user(session)
    for key, expires in (("old", NOW - timedelta(hours=1)), ("live", NOW + timedelta(hours=1))):
        session.add(
            IdempotencyRecord(
                caller="user:x",
                key=key,
                request_fingerprint="f",
                status_code=201,
                response_body=b"{}",
                response_headers={},
                created_at=NOW,
                expires_at=expires,
            )
        )
    session.add_all(
        [
            LoginThrottle(key="stale", failures=3, window_started_at=NOW - 2 * WINDOW),
            LoginThrottle(key="current", failures=3, window_started_at=NOW - WINDOW / 2),
        ]
    )
    for token_hash, expires in (
        ("dead", NOW - timedelta(days=1)),
        ("alive", NOW + timedelta(days=1)),
    ):
        session.add(
            RefreshToken(
                id=uuid.uuid4(),
                family_id=uuid.uuid4(),
                user_id=user.id,
                token_hash=token_hash,
                expires_at=expires,
            )
        )
    await session.flush()

    purged = await purge_expired_records(
        session, now=NOW, login_window=WINDOW, delivery_log=timedelta(days=30)
    )

    assert (purged.idempotency_keys, purged.login_throttles, purged.refresh_tokens) == (1, 1, 1)
    assert (await session.scalars(select(IdempotencyRecord.key))).all() == ["live"]
    assert (await session.scalars(select(LoginThrottle.key))).all() == ["current"]
    assert (await session.scalars(select(RefreshToken.token_hash))).all() == ["alive"]
    again = await purge_expired_records(
        session, now=NOW, login_window=WINDOW, delivery_log=timedelta(days=30)
    )
    assert again == type(again)(0, 0, 0, 0)
    assert await session.scalar(select(func.count()).select_from(RefreshToken)) == 1
