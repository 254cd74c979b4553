from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import (
    IdempotencyRecord,
    LoginThrottle,
    OutboxEvent,
    RefreshToken,
    WebhookDelivery,
    WebhookSubscription,
)
from app.domain.events.service import Event, publish
from app.domain.events.types import EventType
from app.domain.retention import purge_expired_records
from app.domain.webhooks.signing import new_secret
from tests.factories.identity import make_client, make_user

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


async def test_purge_deletes_finished_webhook_deliveries_past_the_log_window(
    session: AsyncSession,
) -> None:
    client, _ = await make_client(session)
    subscription = WebhookSubscription(
        id=uuid.uuid4(),
        client_id=client.id,
        url="https://93.184.215.14/hooks",
        event_types=["stock.changed"],
        secret=new_secret(),
    )
    session.add(subscription)
    await publish(session, [Event(EventType.stock_changed, uuid.uuid4(), {}) for _ in range(4)])
    positions = (await session.scalars(select(OutboxEvent.position))).all()
    old, recent = NOW - timedelta(days=31), NOW - timedelta(days=29)
    for position, (status, updated_at) in zip(
        positions,
        (("delivered", old), ("failed", old), ("pending", old), ("delivered", recent)),
        strict=True,
    ):
        session.add(
            WebhookDelivery(
                subscription_id=subscription.id,
                event_position=position,
                status=status,
                next_attempt_at=old if status == "pending" else null(),
                retry_until=NOW,
                updated_at=updated_at,
            )
        )
    await session.flush()

    purged = await purge_expired_records(
        session, now=NOW, login_window=WINDOW, delivery_log=timedelta(days=30)
    )

    assert purged.webhook_deliveries == 2
    left = (await session.execute(select(WebhookDelivery.status, WebhookDelivery.updated_at))).all()
    assert sorted(status for status, _ in left) == ["delivered", "pending"]
