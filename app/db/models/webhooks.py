"""Webhook subscriptions: where an integration client wants to be told of events."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps


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
    version: Mapped[int] = mapped_column(server_default=text("1"))

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012
