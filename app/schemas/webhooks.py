"""Webhook subscriptions as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, StrictBool

from app.domain.events.types import EventType
from app.schemas.common import RequestModel, omittable

# Visible ASCII; the server checks the scheme, the host and where it resolves to.
TargetUrl = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2048,
        pattern=r"^[\x21-\x7e]+$",
        description="Where deliveries are POSTed: https (http too outside production), a "
        "host that resolves to public addresses only, no credentials",
        examples=["https://shop.example.com/hooks/backoffice"],
    ),
]
EventTypes = Annotated[
    list[EventType],
    Field(min_length=1, max_length=len(EventType), description="The event types to deliver"),
]


class SubscriptionCreate(RequestModel):
    id: uuid.UUID | None = Field(default=None, description="Client-supplied id (optional)")
    client_id: uuid.UUID = Field(
        description="The integration client to tell: a client names itself (its OAuth "
        "`client_id`), an admin the client it subscribes"
    )
    url: TargetUrl
    event_types: EventTypes
    is_active: StrictBool = True


class SubscriptionUpdate(RequestModel):
    """Only the fields sent change."""

    url: TargetUrl = omittable()
    event_types: EventTypes = omittable()
    is_active: StrictBool = omittable("false pauses deliveries")


class SubscriptionRead(BaseModel):
    id: uuid.UUID
    client_id: uuid.UUID
    url: str
    event_types: list[EventType]
    is_active: bool
    paused_reason: str | None = Field(
        description="Why delivery switched the subscription off (repeated failures); null "
        "when it is on or was switched off by hand"
    )
    version: int
    created_at: datetime
    updated_at: datetime


class SubscriptionWithSecret(SubscriptionRead):
    secret: str = Field(
        description="The key deliveries are signed with (HMAC-SHA256). Shown now and never "
        "again: store it where the receiver can read it"
    )


DeliveryStatus = Literal["pending", "delivered", "failed"]


class AttemptRead(BaseModel):
    number: int = Field(description="1 for the first attempt")
    started_at: datetime
    latency_ms: int
    status_code: int | None = Field(description="The receiver's answer; null when none came")
    error: str | None = Field(description="Why it failed when no status code says it")


class DeliveryRead(BaseModel):
    id: uuid.UUID
    subscription_id: uuid.UUID
    event_id: str = Field(description="The event's id, sent as `webhook-id`")
    event_type: EventType
    event_occurred_at: datetime
    replay_of: uuid.UUID | None = Field(description="The delivery this one replays")
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None = Field(description="When it is tried next (pending only)")
    retry_until: datetime = Field(description="Failed attempts are retried until then")
    created_at: datetime
    updated_at: datetime
    attempts: list[AttemptRead]


class ReplayRange(RequestModel):
    since: AwareDatetime = Field(description="The first instant of the range (inclusive)")
    until: AwareDatetime = Field(description="The end of the range (exclusive)")


class ReplayQueued(BaseModel):
    queued: int = Field(description="Deliveries queued, one per event of the range")
