"""Queries for webhook subscriptions. Reads never return the secret."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import String, Uuid, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.keyset import KeysetQuery, PageRequest
from app.db.models.webhooks import WebhookSubscription
from app.db.prepared import Prepared

_ROW = select(*(c for c in WebhookSubscription.__table__.c if c.key != "secret"))
_BY_ID = Prepared(_ROW.where(WebhookSubscription.id == bindparam("subscription_id")))
_SUBSCRIPTIONS = KeysetQuery(
    _ROW,
    stamp=WebhookSubscription.updated_at,
    ident=WebhookSubscription.id,
    filters={"client_id": lambda value: WebhookSubscription.client_id == value},
)


async def add(session: AsyncSession, subscription: WebhookSubscription) -> None:
    """IntegrityError when the id is taken."""
    session.add(subscription)
    await session.flush()


async def load(session: AsyncSession, subscription_id: uuid.UUID) -> WebhookSubscription | None:
    return await session.get(WebhookSubscription, subscription_id)


async def subscription_row(
    reader: AsyncConnection, subscription_id: uuid.UUID
) -> Mapping[str, Any] | None:
    return await _BY_ID.one_or_none(reader, subscription_id=subscription_id)


async def subscription_rows(
    reader: AsyncConnection, page: PageRequest, *, client_id: uuid.UUID | None
) -> tuple[list[dict[str, Any]], str | None]:
    return await _SUBSCRIPTIONS.page(reader, page, client_id=client_id)


_PAUSE = Prepared(
    text(
        "UPDATE webhooks_subscription SET is_active = false, paused_reason = :reason, "
        "version = version + 1, updated_at = now() "
        "WHERE id = :subscription_id AND is_active RETURNING version"
    ).bindparams(bindparam("subscription_id", type_=Uuid), bindparam("reason", type_=String))
)


async def pause(session: AsyncSession, subscription_id: uuid.UUID, reason: str) -> bool:
    """Switches an active subscription off, saying why; False if it was off already."""
    return await _PAUSE.scalar(session, subscription_id=subscription_id, reason=reason) is not None
