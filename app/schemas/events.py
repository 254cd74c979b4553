"""The event feed clients poll."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.domain.events.types import EventType


class EventRead(BaseModel):
    id: str = Field(description="The event's position; pass it as `after` to resume behind it")
    type: EventType
    occurred_at: datetime
    subject_id: uuid.UUID = Field(description="The item, partner or order the event is about")
    data: dict[str, Any] = Field(description="The subject's state after the change")


class EventPage(BaseModel):
    items: list[EventRead]
    next_cursor: str | None = Field(
        description="Pass as `after` next time; the `after` sent when nothing new arrived"
    )
