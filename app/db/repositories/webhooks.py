"""Queries for webhook subscriptions. Reads never return the secret."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, select
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
