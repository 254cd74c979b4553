"""Queries that turn outbox events into deliveries, hand them to the sender and log attempts.

The fan-out reads the outbox as the feed does (app/db/repositories/events.py): in (txid,
position) order, only events of transactions that ended before every transaction still
running. One position for all subscriptions (`webhooks_fan_out`, locked while read) is
therefore enough: an event that commits later sorts after it. A subscription gets the events
of transactions from the one that made it on (`from_txid`): any such event is either still
unsettled when the fan-out looks, or was written after the subscription committed, so none is
skipped and none from before it is sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    DateTime,
    Integer,
    Interval,
    SmallInteger,
    String,
    Text,
    Uuid,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.json_text import timestamp_text
from app.db.keyset import KeysetQuery, PageRequest
from app.db.models.events import OutboxEvent
from app.db.models.webhooks import WebhookAttempt, WebhookDelivery
from app.db.prepared import Prepared

NOTIFY_CHANNEL = "webhooks_outbox"  # also sent by the outbox trigger (see the migration)

_FAN_OUT = Prepared(
    text(
        """
WITH fan AS (
    SELECT txid, position FROM webhooks_fan_out WHERE id = 1 FOR UPDATE
), horizon AS (
    SELECT (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint AS xmin
), scanned AS (
    SELECT e.txid, e.position, e.type, e.owner_ids
    FROM events_outbox e, fan, horizon
    WHERE (e.txid, e.position) > (fan.txid, fan.position) AND e.txid < horizon.xmin
    ORDER BY e.txid, e.position
    LIMIT :batch
), made AS (
    INSERT INTO webhooks_delivery (subscription_id, event_position, retry_until)
    SELECT s.id, e.position, now() + :retry_for
    FROM scanned e
    JOIN webhooks_subscription s
        ON e.type = ANY(s.event_types) AND e.txid >= s.from_txid AND s.is_active
        AND (e.type <> ALL(:owned_types) OR s.client_id = ANY(e.owner_ids))
    JOIN auth_client c ON c.id = s.client_id AND c.is_active
        AND c.role || ':' || e.type = ANY(:readable)
    ORDER BY e.txid, e.position, s.id
    ON CONFLICT DO NOTHING
    RETURNING subscription_id
), moved AS (
    UPDATE webhooks_fan_out f SET txid = last.txid, position = last.position
    FROM (SELECT txid, position FROM scanned ORDER BY txid DESC, position DESC LIMIT 1) last
    WHERE f.id = 1
    RETURNING 1
)
SELECT
    (SELECT count(*) FROM scanned) AS scanned,
    (SELECT count(*) FROM moved) AS moved,
    ARRAY(SELECT DISTINCT subscription_id FROM made) AS subscriptions
"""
    ).bindparams(
        bindparam("batch", type_=Integer),
        bindparam("retry_for", type_=Interval),
        bindparam("owned_types", type_=ARRAY(String)),
        bindparam("readable", type_=ARRAY(String)),
    )
)


@dataclass(frozen=True, slots=True)
class FannedOut:
    scanned: int  # events read
    subscriptions: list[uuid.UUID]  # those that got deliveries


async def fan_out(
    session: AsyncSession,
    *,
    batch: int,
    retry_for: timedelta,
    owned_types: Sequence[str],
    readable: Sequence[str],
) -> FannedOut:
    """Deliveries for the next `batch` settled events, and the fan-out position moved past
    them. `owned_types` reach a subscription only when its client owns the event; an event
    reaches it only when `readable` holds "<the client's role>:<the event's type>"."""
    row = await _FAN_OUT.one_or_none(
        session,
        batch=batch,
        retry_for=retry_for,
        owned_types=list(owned_types),
        readable=list(readable),
    )
    assert row is not None
    return FannedOut(row["scanned"], list(row["subscriptions"]))


_BEHIND = Prepared(
    text(
        "SELECT EXISTS (SELECT FROM events_outbox e, webhooks_fan_out f "
        "WHERE f.id = 1 AND (e.txid, e.position) > (f.txid, f.position))"
    )
)


async def events_behind(session: AsyncSession) -> bool:
    """Whether committed events lie past the fan-out position (settled or not yet)."""
    return bool(await _BEHIND.scalar(session))


_EVENT_ID = func.concat(OutboxEvent.txid, "-", OutboxEvent.position)

_TARGET = Prepared(
    text(
        "SELECT s.url, s.secret, s.is_active AND c.is_active AS is_active, "
        "s.consecutive_failures "
        "FROM webhooks_subscription s JOIN auth_client c ON c.id = s.client_id "
        "WHERE s.id = :subscription_id"
    ).bindparams(bindparam("subscription_id", type_=Uuid))
)


async def delivery_target(db: AsyncSession, subscription_id: uuid.UUID) -> dict[str, Any] | None:
    """The subscription's URL, secret, whether it delivers and its failures in a row."""
    return await _TARGET.one_or_none(db, subscription_id=subscription_id)


# The body receivers get: the event as the feed shows it.
_BODY = cast(
    func.json_build_object(
        "id",
        _EVENT_ID,
        "type",
        OutboxEvent.type,
        "occurred_at",
        timestamp_text(OutboxEvent.__table__.c.occurred_at),
        "subject_id",
        OutboxEvent.subject_id,
        "data",
        OutboxEvent.data,
    ),
    Text,
)
_PENDING = Prepared(
    select(
        WebhookDelivery.id,
        WebhookDelivery.attempts,
        WebhookDelivery.next_attempt_at,
        WebhookDelivery.retry_until,
        _EVENT_ID.label("event_id"),
        _BODY.label("body"),
    )
    .join(OutboxEvent, OutboxEvent.position == WebhookDelivery.event_position)
    .where(
        WebhookDelivery.subscription_id == bindparam("subscription_id"),
        WebhookDelivery.status == literal_column("'pending'"),
    )
    .order_by(WebhookDelivery.seq)
    .limit(bindparam("row_limit"))
)


async def pending_deliveries(
    db: AsyncSession, subscription_id: uuid.UUID, limit: int
) -> list[dict[str, Any]]:
    """The subscription's next pending deliveries, in the order they are to arrive."""
    return await _PENDING.all(db, subscription_id=subscription_id, row_limit=limit)


@dataclass(frozen=True, slots=True)
class Attempted:
    delivery_id: uuid.UUID
    number: int  # the delivery's attempts so far, this one included
    started_at: datetime
    latency_ms: int
    status_code: int | None
    error: str | None
    status: str  # the delivery's status after it
    next_attempt_at: datetime | None


# Each attempt is logged once (its key); the delivery moves on only from the state the
# attempt started from, so a second worker that somehow posted it too changes nothing.
_RECORD = Prepared(
    text(
        """
WITH r AS (
    SELECT * FROM unnest(
        :ids, :numbers, :started, :latencies, :codes, :errors, :statuses, :next_at
    ) AS r(id, number, started_at, latency_ms, status_code, error, status, next_attempt_at)
), logged AS (
    INSERT INTO webhooks_attempt (delivery_id, number, started_at, latency_ms, status_code, error)
    SELECT id, number, started_at, latency_ms, status_code, error FROM r
    ON CONFLICT DO NOTHING
    RETURNING delivery_id
)
UPDATE webhooks_delivery d
SET status = r.status, attempts = r.number, next_attempt_at = r.next_attempt_at,
    updated_at = now()
FROM r
WHERE d.id = r.id AND d.id IN (SELECT delivery_id FROM logged)
    AND d.status = 'pending' AND d.attempts = r.number - 1
RETURNING d.id
"""
    ).bindparams(
        bindparam("ids", type_=ARRAY(Uuid)),
        bindparam("numbers", type_=ARRAY(Integer)),
        bindparam("started", type_=ARRAY(DateTime(timezone=True))),
        bindparam("latencies", type_=ARRAY(Integer)),
        bindparam("codes", type_=ARRAY(SmallInteger)),
        bindparam("errors", type_=ARRAY(String)),
        bindparam("statuses", type_=ARRAY(String)),
        bindparam("next_at", type_=ARRAY(DateTime(timezone=True))),
    )
)


async def record_attempts(session: AsyncSession, attempts: Sequence[Attempted]) -> int:
    """Logs the attempts and moves their deliveries on; how many it moved."""
    if not attempts:
        return 0
    rows = await _RECORD.all(
        session,
        ids=[a.delivery_id for a in attempts],
        numbers=[a.number for a in attempts],
        started=[a.started_at for a in attempts],
        latencies=[a.latency_ms for a in attempts],
        codes=[a.status_code for a in attempts],
        errors=[a.error for a in attempts],
        statuses=[a.status for a in attempts],
        next_at=[a.next_attempt_at for a in attempts],
    )
    return len(rows)


_FAILURES = Prepared(
    text(
        "UPDATE webhooks_subscription SET consecutive_failures = :failures "
        "WHERE id = :subscription_id AND consecutive_failures <> :failures"
    ).bindparams(bindparam("subscription_id", type_=Uuid), bindparam("failures", type_=Integer))
)


async def set_consecutive_failures(
    session: AsyncSession, subscription_id: uuid.UUID, failures: int
) -> None:
    await _FAILURES.execute(session, subscription_id=subscription_id, failures=failures)


_CLAIM = Prepared(
    text(
        "INSERT INTO webhooks_lease (name, holder, expires_at) "
        "VALUES (:name, :holder, now() + :lease) "
        "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
        "expires_at = excluded.expires_at "
        "WHERE webhooks_lease.expires_at < now() OR webhooks_lease.holder = excluded.holder "
        "RETURNING holder"
    ).bindparams(
        bindparam("name", type_=String),
        bindparam("holder", type_=Uuid),
        bindparam("lease", type_=Interval),
    )
)
_RELEASE = Prepared(
    text("DELETE FROM webhooks_lease WHERE name = :name AND holder = :holder").bindparams(
        bindparam("name", type_=String), bindparam("holder", type_=Uuid)
    )
)


async def claim(session: AsyncSession, name: str, holder: uuid.UUID, lease: timedelta) -> bool:
    """The lease `name` for `holder`, unless another holds it and it has not expired (a
    concurrent claim waits for the other's commit, then fails)."""
    return await _CLAIM.scalar(session, name=name, holder=holder, lease=lease) is not None


async def release(session: AsyncSession, name: str, holder: uuid.UUID) -> None:
    await _RELEASE.execute(session, name=name, holder=holder)


_HEAD_DUE = Prepared(
    text(
        "SELECT next_attempt_at <= now() FROM webhooks_delivery "
        "WHERE subscription_id = :subscription_id AND status = 'pending' ORDER BY seq LIMIT 1"
    ).bindparams(bindparam("subscription_id", type_=Uuid))
)


async def head_due(session: AsyncSession, subscription_id: uuid.UUID) -> bool:
    """Whether the subscription's next pending delivery is due."""
    return bool(await _HEAD_DUE.scalar(session, subscription_id=subscription_id))


_DUE = Prepared(
    text(
        """
SELECT head.subscription_id FROM (
    SELECT DISTINCT ON (d.subscription_id) d.subscription_id, d.next_attempt_at
    FROM webhooks_delivery d
    WHERE d.status = 'pending'
    ORDER BY d.subscription_id, d.seq
) head
JOIN webhooks_subscription s ON s.id = head.subscription_id AND s.is_active
WHERE head.next_attempt_at <= now()
"""
    )
)


async def subscriptions_due(db: AsyncConnection | AsyncSession) -> list[uuid.UUID]:
    """Active subscriptions whose next delivery is due."""
    return [row["subscription_id"] for row in await _DUE.all(db)]


_REPLAY_ONE = Prepared(
    text(
        "INSERT INTO webhooks_delivery (subscription_id, event_position, replay_of, retry_until) "
        "SELECT subscription_id, event_position, id, now() + :retry_for "
        "FROM webhooks_delivery WHERE id = :delivery_id "
        "RETURNING id"
    ).bindparams(bindparam("delivery_id", type_=Uuid), bindparam("retry_for", type_=Interval))
)


async def replay_delivery(
    session: AsyncSession, delivery_id: uuid.UUID, retry_for: timedelta
) -> uuid.UUID:
    """A new pending delivery of the same event, at the end of the subscription's queue."""
    made = await _REPLAY_ONE.scalar(session, delivery_id=delivery_id, retry_for=retry_for)
    assert made is not None
    return uuid.UUID(str(made))


# Events of the range the subscription would have got, settled ones only, in feed order; an
# event that already has a delivery gets one more, pointing at the first.
_REPLAY_RANGE = Prepared(
    text(
        """
WITH horizon AS (
    SELECT (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint AS xmin
), s AS (
    SELECT s.id, s.client_id, s.event_types, c.role FROM webhooks_subscription s
    JOIN auth_client c ON c.id = s.client_id WHERE s.id = :subscription_id
), made AS (
    INSERT INTO webhooks_delivery (subscription_id, event_position, replay_of, retry_until)
    SELECT s.id, e.position, first.id, now() + :retry_for
    FROM s
    JOIN events_outbox e
        ON e.type = ANY(s.event_types)
        AND (e.type <> ALL(:owned_types) OR s.client_id = ANY(e.owner_ids))
        AND s.role || ':' || e.type = ANY(:readable)
    CROSS JOIN horizon
    LEFT JOIN webhooks_delivery first
        ON first.subscription_id = s.id AND first.event_position = e.position
        AND first.replay_of IS NULL
    WHERE e.occurred_at >= :since AND e.occurred_at < :until AND e.txid < horizon.xmin
    ORDER BY e.txid, e.position
    LIMIT :row_limit
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM made
"""
    ).bindparams(
        bindparam("subscription_id", type_=Uuid),
        bindparam("retry_for", type_=Interval),
        bindparam("owned_types", type_=ARRAY(String)),
        bindparam("readable", type_=ARRAY(String)),
        bindparam("since", type_=DateTime(timezone=True)),
        bindparam("until", type_=DateTime(timezone=True)),
        bindparam("row_limit", type_=BigInteger),
    )
)


async def replay_range(
    session: AsyncSession,
    subscription_id: uuid.UUID,
    *,
    since: datetime,
    until: datetime,
    owned_types: Sequence[str],
    readable: Sequence[str],
    retry_for: timedelta,
    limit: int,
) -> int:
    """Deliveries of the events in [since, until) (at most `limit`); how many were made."""
    made = await _REPLAY_RANGE.scalar(
        session,
        subscription_id=subscription_id,
        since=since,
        until=until,
        owned_types=list(owned_types),
        readable=list(readable),
        retry_for=retry_for,
        row_limit=limit,
    )
    return int(made)


_NOTIFY = Prepared(text(f"SELECT pg_notify('{NOTIFY_CHANNEL}', :payload)"))


async def notify_workers(session: AsyncSession, subscription_id: uuid.UUID) -> None:
    """Workers hear at commit that the subscription has deliveries waiting."""
    await _NOTIFY.execute(session, payload=str(subscription_id))


_ATTEMPT_LOG = (
    select(
        func.coalesce(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_object(
                        "number",
                        WebhookAttempt.number,
                        "started_at",
                        WebhookAttempt.started_at,
                        "latency_ms",
                        WebhookAttempt.latency_ms,
                        "status_code",
                        WebhookAttempt.status_code,
                        "error",
                        WebhookAttempt.error,
                    ),
                    WebhookAttempt.number,
                )
            ),
            literal_column("'[]'::json"),
        )
    )
    .where(WebhookAttempt.delivery_id == WebhookDelivery.id)
    .correlate(WebhookDelivery)
    .scalar_subquery()
)
_LOG_ROW = select(
    WebhookDelivery.id,
    WebhookDelivery.subscription_id,
    _EVENT_ID.label("event_id"),
    OutboxEvent.type.label("event_type"),
    OutboxEvent.occurred_at.label("event_occurred_at"),
    WebhookDelivery.replay_of,
    WebhookDelivery.status,
    WebhookDelivery.attempts.label("attempt_count"),
    WebhookDelivery.next_attempt_at,
    WebhookDelivery.retry_until,
    WebhookDelivery.created_at,
    WebhookDelivery.updated_at,
    _ATTEMPT_LOG.label("attempts"),
).join(OutboxEvent, OutboxEvent.position == WebhookDelivery.event_position)
_LOG = KeysetQuery(
    _LOG_ROW.where(WebhookDelivery.subscription_id == bindparam("subscription_id")),
    stamp=WebhookDelivery.updated_at,
    ident=WebhookDelivery.id,
    filters={"status": lambda value: WebhookDelivery.status == value},
)
_ONE = Prepared(_LOG_ROW.where(WebhookDelivery.id == bindparam("delivery_id")))


async def delivery_log(
    reader: AsyncConnection, subscription_id: uuid.UUID, page: PageRequest, *, status: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The subscription's deliveries, oldest change first, each with its attempts."""
    return await _LOG.page(reader, page, bind={"subscription_id": subscription_id}, status=status)


async def delivery(
    db: AsyncConnection | AsyncSession, delivery_id: uuid.UUID
) -> dict[str, Any] | None:
    return await _ONE.one_or_none(db, delivery_id=delivery_id)


_PURGE = Prepared(
    text(
        "WITH gone AS (DELETE FROM webhooks_delivery "
        "WHERE status <> 'pending' AND updated_at < :before RETURNING 1) "
        "SELECT count(*) FROM gone"
    ).bindparams(bindparam("before", type_=DateTime(timezone=True)))
)


async def purge_finished(session: AsyncSession, before: datetime) -> int:
    """Deletes deliveries (and their attempts) that ended before `before`."""
    return int(await _PURGE.scalar(session, before=before))
