"""Delivering events to subscriptions: in order, retried with backoff, then failed.

Each settled outbox event a subscription wants becomes one delivery (`fan_out`). A
subscription's deliveries are posted one after another in event order (`next_batch`, `send`):
while the first waits for its retry, those behind it wait too, so a receiver never sees an
event before an earlier one. A failed attempt is retried after an exponentially growing,
jittered pause until `retry_for` after the delivery was made; then the delivery is failed and
the next one goes. After `pause_after_failures` failed deliveries in a row the subscription is
switched off (`paused_reason` says why) until someone switches it on again.

Every delivery carries the event's id (`webhook-id`): a delivery may arrive twice (a worker
killed after posting and before recording it posts it again), so receivers drop repeats by it.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories.webhooks import deliveries as repo
from app.db.repositories.webhooks import subscriptions as subscriptions_repo
from app.domain.actor import Actor
from app.domain.audit.service import record_change
from app.domain.events.types import READERS
from app.domain.identity.roles import HolderKind, permissions_of, roles_for
from app.domain.webhooks.sender import Sender, Sent
from app.domain.webhooks.signing import sign

FAN_OUT_BATCH = 1000
SEND_BATCH = 100
PAUSED_FOR_FAILURES = "deliveries kept failing"
# Types a client receives only for subjects it owns (its orders, its customers).
OWNED_TYPES = tuple(sorted(t.value for t, readers in READERS.items() if readers.owned_by_clients))
# What each client role may read, as "<role>:<type>": a client whose role changed after it
# subscribed is sent only what its role lets it read now.
READABLE = tuple(
    sorted(
        f"{role}:{kind.value}"
        for role in roles_for(HolderKind.client)
        for kind, readers in READERS.items()
        if readers.permissions & permissions_of([role])
    )
)


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    retry_for: timedelta  # how long a delivery is retried
    first_backoff_seconds: float
    max_backoff_seconds: float
    pause_after_failures: int  # failed deliveries in a row that switch a subscription off; 0: never


def backoff(policy: DeliveryPolicy, attempts: int, jitter: Callable[[], float]) -> timedelta:
    """The pause after the `attempts`-th failed attempt: doubling from the first backoff up to
    the maximum, each a random 50-100 % of that (so failing receivers are not hit in step)."""
    step = min(policy.max_backoff_seconds, policy.first_backoff_seconds * 2 ** (attempts - 1))
    return timedelta(seconds=step * (0.5 + jitter() / 2))


async def fan_out(session: AsyncSession, policy: DeliveryPolicy) -> repo.FannedOut:
    """Deliveries for the next settled events (at most FAN_OUT_BATCH)."""
    return await repo.fan_out(
        session,
        batch=FAN_OUT_BATCH,
        retry_for=policy.retry_for,
        owned_types=OWNED_TYPES,
        readable=READABLE,
    )


async def events_behind(session: AsyncSession) -> bool:
    """Whether events wait for a fan-out: committed since one looked, or written by a
    transaction that committed while an older one still runs (not settled yet)."""
    return await repo.events_behind(session)


@dataclass(frozen=True, slots=True)
class Batch:
    subscription_id: uuid.UUID
    url: str
    secret: str
    failures_before: int  # failed deliveries in a row before this batch
    deliveries: list[dict[str, Any]]  # pending, in order; the first is due
    full: bool  # more may be pending behind these


@dataclass(slots=True)
class Outcome:
    attempts: list[repo.Attempted] = field(default_factory=list)
    wait_until: datetime | None = None  # the first undelivered one is retried then


async def next_batch(session: AsyncSession, subscription_id: uuid.UUID) -> Batch | datetime | None:
    """The subscription's next deliveries when the first is due; when it is not, the time it
    is; None when there is nothing to do (nothing pending, or the subscription is off)."""
    target = await repo.delivery_target(session, subscription_id)
    if target is None or not target["is_active"]:
        return None
    pending = await repo.pending_deliveries(session, subscription_id, SEND_BATCH)
    if not pending:
        return None
    due_at: datetime = pending[0]["next_attempt_at"]
    if due_at > datetime.now(UTC):
        return due_at
    return Batch(
        subscription_id,
        target["url"],
        target["secret"],
        target["consecutive_failures"],
        pending,
        full=len(pending) == SEND_BATCH,
    )


FAN_OUT_LEASE = "fan-out"


def delivery_lease(subscription_id: uuid.UUID) -> str:
    return f"deliver:{subscription_id}"


async def claim(session: AsyncSession, lease: str, holder: uuid.UUID, length: timedelta) -> bool:
    """Makes `holder` the one doing the leased work for `length`, unless another is."""
    return await repo.claim(session, lease, holder, length)


async def release(session: AsyncSession, lease: str, holder: uuid.UUID) -> None:
    await repo.release(session, lease, holder)


async def head_due(session: AsyncSession, subscription_id: uuid.UUID) -> bool:
    return await repo.head_due(session, subscription_id)


async def send(
    batch: Batch,
    sender: Sender,
    policy: DeliveryPolicy,
    *,
    until: float,
    jitter: Callable[[], float] = random.random,
) -> Outcome:
    """Posts the batch's deliveries in order, signed, up to the first that is to be retried
    or until the monotonic clock passes `until`."""
    outcome = Outcome()
    for delivery in batch.deliveries:
        if time.monotonic() > until:
            break
        body: bytes = delivery["body"].encode()
        started_at = datetime.now(UTC)
        headers = sign(batch.secret, delivery["event_id"], int(time.time()), body).as_dict()
        sent = await sender.post(batch.url, body, headers)
        attempt = _judge(delivery, sent, started_at, policy, jitter)
        outcome.attempts.append(attempt)
        if attempt.status == "pending":
            outcome.wait_until = attempt.next_attempt_at
            break
    return outcome


def _judge(
    delivery: dict[str, Any],
    sent: Sent,
    started_at: datetime,
    policy: DeliveryPolicy,
    jitter: Callable[[], float],
) -> repo.Attempted:
    number = delivery["attempts"] + 1
    status, next_attempt_at = "delivered", None
    if not sent.ok:
        retry_at = datetime.now(UTC) + backoff(policy, number, jitter)
        if retry_at <= delivery["retry_until"]:
            status, next_attempt_at = "pending", retry_at
        else:
            status = "failed"
    return repo.Attempted(
        delivery_id=delivery["id"],
        number=number,
        started_at=started_at,
        latency_ms=sent.latency_ms,
        status_code=sent.status_code,
        error=sent.error,
        status=status,
        next_attempt_at=next_attempt_at,
    )


async def record(
    session: AsyncSession, actor: Actor, batch: Batch, outcome: Outcome, policy: DeliveryPolicy
) -> bool:
    """Logs the attempts, moves the deliveries on and counts failures in a row, pausing the
    subscription when they reach the limit. True when it was paused."""
    await repo.record_attempts(session, outcome.attempts)
    failures = batch.failures_before
    for attempt in outcome.attempts:
        if attempt.status == "delivered":
            failures = 0
        elif attempt.status == "failed":
            failures += 1
    await repo.set_consecutive_failures(session, batch.subscription_id, failures)
    if not 0 < policy.pause_after_failures <= failures:
        return False
    paused = await subscriptions_repo.pause(session, batch.subscription_id, PAUSED_FOR_FAILURES)
    if paused:
        await record_change(
            session,
            actor,
            action="webhooks.subscription.pause",
            resource_type="webhooks_subscription",
            resource_id=batch.subscription_id,
            before={"is_active": True},
            after={
                "is_active": False,
                "paused_reason": PAUSED_FOR_FAILURES,
                "consecutive_failures": failures,
            },
        )
    return paused
