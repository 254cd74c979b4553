"""Retention: records that have served their purpose are deleted (DSGVO storage limitation)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories import idempotency, identity
from app.db.repositories.webhooks import deliveries


@dataclass(frozen=True, slots=True)
class Purged:
    idempotency_keys: int
    login_throttles: int
    refresh_tokens: int
    webhook_deliveries: int


async def purge_expired_records(
    session: AsyncSession, *, now: datetime, login_window: timedelta, delivery_log: timedelta
) -> Purged:
    """Deletes expired idempotency keys, login-failure counters whose window has passed,
    expired refresh tokens and webhook deliveries that ended more than `delivery_log` ago.
    The audit log is never purged here (GoBD retention applies)."""
    return Purged(
        idempotency_keys=await idempotency.purge_expired(session),
        login_throttles=await identity.purge_login_throttles(session, now - login_window),
        refresh_tokens=await identity.purge_refresh_tokens(session, now),
        webhook_deliveries=await deliveries.purge_finished(session, now - delivery_log),
    )
