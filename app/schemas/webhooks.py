"""Webhook subscriptions as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool

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
    version: int
    created_at: datetime
    updated_at: datetime


class SubscriptionWithSecret(SubscriptionRead):
    secret: str = Field(
        description="The key deliveries are signed with (HMAC-SHA256). Shown now and never "
        "again: store it where the receiver can read it"
    )
