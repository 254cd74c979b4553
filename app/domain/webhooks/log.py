"""The delivery log of a subscription, and replays: an event sent again on request.

A replay is a further delivery of an event, queued behind the subscription's other
deliveries, carrying the same `webhook-id` as the first (it is the same event: a receiver
that has processed it drops it, one that lost it processes it). The owner of the subscription
(or an admin) sees its log and may replay; anyone else gets 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.keyset import PageRequest
from app.db.repositories.webhooks import deliveries as repo
from app.db.repositories.webhooks import subscriptions as subscriptions_repo
from app.domain.actor import Actor
from app.domain.audit.service import record_change
from app.domain.errors import Conflict, NotFound, invalid
from app.domain.identity.principal import Principal
from app.domain.webhooks.delivery import OWNED_TYPES, READABLE, DeliveryPolicy

MAX_REPLAY = 10_000
_NO_DELIVERY = "no such delivery"


async def _own_subscription(
    db: AsyncConnection | AsyncSession, caller: Principal, subscription_id: uuid.UUID
) -> Mapping[str, Any]:
    connection = await db.connection() if isinstance(db, AsyncSession) else db
    row = await subscriptions_repo.subscription_row(connection, subscription_id)
    if row is None or (caller.is_client and row["client_id"] != caller.id):
        raise NotFound("no such subscription")
    return row


async def list_deliveries(
    reader: AsyncConnection,
    caller: Principal,
    subscription_id: uuid.UUID,
    page: PageRequest,
    *,
    status: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Oldest change first (`updated_since` finds what changed), each with its attempts."""
    await _own_subscription(reader, caller, subscription_id)
    return await repo.delivery_log(reader, subscription_id, page, status=status)


async def get_delivery(
    db: AsyncConnection | AsyncSession, caller: Principal, delivery_id: uuid.UUID
) -> dict[str, Any]:
    row = await repo.delivery(db, delivery_id)
    if row is None:
        raise NotFound(_NO_DELIVERY)
    try:
        await _own_subscription(db, caller, row["subscription_id"])
    except NotFound as exc:
        raise NotFound(_NO_DELIVERY) from exc
    return row


def _check_active(subscription: Mapping[str, Any]) -> None:
    if not subscription["is_active"]:
        raise Conflict("the subscription is switched off: switch it on before replaying")


async def replay_delivery(
    session: AsyncSession,
    actor: Actor,
    caller: Principal,
    delivery_id: uuid.UUID,
    policy: DeliveryPolicy,
) -> dict[str, Any]:
    """A new delivery of the delivery's event, queued behind the subscription's others."""
    original = await get_delivery(session, caller, delivery_id)
    if original["status"] == "pending":
        raise Conflict("the delivery is still waiting to be delivered")
    subscription_id = original["subscription_id"]
    _check_active(await _own_subscription(session, caller, subscription_id))
    made = await repo.replay_delivery(session, delivery_id, policy.retry_for)
    await repo.notify_workers(session, subscription_id)
    await record_change(
        session,
        actor,
        action="webhooks.delivery.replay",
        resource_type="webhooks_subscription",
        resource_id=subscription_id,
        before=None,
        after={"replay_of": str(delivery_id), "delivery_id": str(made)},
    )
    return await get_delivery(session, caller, made)


async def replay_range(
    session: AsyncSession,
    actor: Actor,
    caller: Principal,
    subscription_id: uuid.UUID,
    *,
    since: datetime,
    until: datetime,
    policy: DeliveryPolicy,
) -> int:
    """New deliveries of every event of [since, until) the subscription wants (also those
    from while it was switched off); how many. At most MAX_REPLAY at a time."""
    if until <= since:
        raise invalid("/until", "must be later than since")
    _check_active(await _own_subscription(session, caller, subscription_id))
    queued = await repo.replay_range(
        session,
        subscription_id,
        since=since,
        until=until,
        owned_types=OWNED_TYPES,
        readable=READABLE,
        retry_for=policy.retry_for,
        limit=MAX_REPLAY + 1,
    )
    if queued > MAX_REPLAY:
        raise invalid("/until", f"the range holds more than {MAX_REPLAY} events: replay less")
    if queued:
        await repo.notify_workers(session, subscription_id)
    await record_change(
        session,
        actor,
        action="webhooks.subscription.replay",
        resource_type="webhooks_subscription",
        resource_id=subscription_id,
        before=None,
        after={"since": since.isoformat(), "until": until.isoformat(), "queued": queued},
    )
    return queued
