"""Webhooks: where integration clients want to be told of events, and what was sent them.

Delivery (app/domain/webhooks/delivery.py) fans each settled outbox event out to the
subscriptions that want it, one `webhooks_delivery` per pair, then posts a subscription's
deliveries one after another in event order, logging every attempt.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    SmallInteger,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps
from app.db.models.events import CURRENT_TXID

DELIVERY_STATUSES = ("pending", "delivered", "failed")


class WebhookSubscription(Timestamps, Base):
    __tablename__ = "webhooks_subscription"
    __table_args__ = (
        CheckConstraint("cardinality(event_types) > 0", name="has_event_types"),
        Index(None, "updated_at", "id"),
        Index(None, "client_id", "updated_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # The integration client that is told; it alone (and admins) may see the subscription.
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_client.id"))
    url: Mapped[str] = mapped_column(String(2048))
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(50)))
    # The HMAC key deliveries are signed with; shown to the client once, when made.
    secret: Mapped[str] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(server_default=text("true"))
    # Why delivery paused it (is_active false); cleared when it is switched on again.
    paused_reason: Mapped[str | None] = mapped_column(String(200))
    # Deliveries that failed for good in a row; reset by one that arrives.
    consecutive_failures: Mapped[int] = mapped_column(server_default=text("0"))
    # Events of transactions from this one on are delivered: the transaction that made the
    # subscription (see the fan-out in app/db/repositories/webhooks/deliveries.py).
    from_txid: Mapped[int] = mapped_column(BigInteger, server_default=CURRENT_TXID)
    version: Mapped[int] = mapped_column(server_default=text("1"))

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012


class WebhookFanOut(Base):
    """How far the fan-out has read the outbox: one row."""

    __tablename__ = "webhooks_fan_out"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    txid: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(BigInteger)


class WebhookDelivery(Timestamps, Base):
    """One event for one subscription. Posted in `seq` order per subscription."""

    __tablename__ = "webhooks_delivery"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in DELIVERY_STATUSES) + ")",
            name="known_status",
        ),
        CheckConstraint(
            "(status = 'pending') = (next_attempt_at IS NOT NULL)", name="pending_has_next"
        ),
        # An event becomes one delivery per subscription, however often the fan-out runs;
        # replays are further deliveries of it.
        Index(
            "ix_webhooks_delivery_once_per_event",
            "subscription_id",
            "event_position",
            unique=True,
            postgresql_where=text("replay_of IS NULL"),
        ),
        Index(
            "ix_webhooks_delivery_pending",
            "subscription_id",
            "seq",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_webhooks_delivery_log", "subscription_id", "updated_at", "id"),
        Index(None, "updated_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, server_default=text("gen_random_uuid()")
    )
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhooks_subscription.id", ondelete="CASCADE")
    )
    event_position: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("events_outbox.position", ondelete="CASCADE"), index=True
    )
    replay_of: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("webhooks_delivery.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(20), server_default=text("'pending'"))
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(server_default=text("now()"))
    # Retried until then; failed afterwards.
    retry_until: Mapped[datetime]


class WebhookAttempt(Base):
    """One POST of a delivery. The key makes an attempt recordable once only."""

    __tablename__ = "webhooks_attempt"

    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhooks_delivery.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime]
    latency_ms: Mapped[int]
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    # Why it failed when no status code says it (timeout, refused address, ...).
    error: Mapped[str | None] = mapped_column(String(200))


class WebhookLease(Base):
    """Which job does a piece of webhook work right now, until when: the fan-out, or the
    delivery of one subscription (`deliver:<id>`). One job at a time each: no delivery is
    posted by two workers at once, and none overtakes another."""

    __tablename__ = "webhooks_lease"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[uuid.UUID]
    expires_at: Mapped[datetime]
