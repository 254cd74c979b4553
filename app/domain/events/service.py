"""Publishing changes to the outbox and reading the feed clients poll.

Areas call `publish` in the transaction of their change: the event exists exactly when the
change does. Webhook delivery (a later issue) reads the same outbox in the same order.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.repositories import events as repo
from app.db.repositories.events import FeedPosition, NewEvent
from app.domain.errors import FieldError, InvalidInput
from app.domain.events.types import EventType, visibility
from app.domain.identity.principal import Principal

DEFAULT_FEED_PAGE, MAX_FEED_PAGE = 100, 1000
FEED_CURSOR_PATTERN = r"^[0-9]{1,19}-[0-9]{1,19}$"
_FEED_CURSOR = re.compile(FEED_CURSOR_PATTERN)
_MAX_BIGINT = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Event:
    type: EventType
    subject_id: uuid.UUID
    data: dict[str, Any]
    owner_ids: Sequence[uuid.UUID] | None = None


@dataclass(frozen=True, slots=True)
class FeedPage:
    events: list[dict[str, Any]]  # each with `id` (its cursor), type, occurred_at, subject_id, data
    next_cursor: str | None  # resume here; the `after` given when nothing new arrived


async def publish(session: AsyncSession, events: Sequence[Event]) -> None:
    """Writes the events in the caller's transaction."""
    await repo.append(
        session,
        [NewEvent(e.type.value, e.subject_id, e.data, e.owner_ids) for e in events],
    )


def encode_feed_cursor(position: FeedPosition) -> str:
    return f"{position[0]}-{position[1]}"


def decode_feed_cursor(cursor: str) -> FeedPosition:
    invalid = InvalidInput(
        "the cursor is not one this API handed out",
        [FieldError("not a feed cursor", parameter="after")],
    )
    if not _FEED_CURSOR.fullmatch(cursor):
        raise invalid
    # Every cursor of the published syntax is a position: one past the largest stored value is
    # past every event (an empty page), not an error.
    txid, position = (min(int(part), _MAX_BIGINT) for part in cursor.split("-"))
    return txid, position


async def read_feed(
    reader: AsyncConnection,
    principal: Principal,
    *,
    after: str | None,
    types: frozenset[EventType] | None,
    limit: int,
) -> FeedPage:
    """The caller's events after `after`, in commit-safe order, only of types it may read
    (integration clients: only their own orders and customers)."""
    start = decode_feed_cursor(after) if after else None
    seen = visibility(principal, types)
    if not seen.all_of and not seen.own_of:
        return FeedPage([], after)
    rows = await repo.read_feed(
        reader,
        after=start,
        all_types=seen.all_of,
        owned_types=seen.own_of,
        caller=principal.id,
        limit=limit,
    )
    events = [_as_event(row) for row in rows]
    next_cursor = events[-1]["id"] if events else after
    return FeedPage(events, next_cursor)


def _as_event(row: dict[str, Any]) -> dict[str, Any]:
    occurred_at: datetime = row["occurred_at"]
    return {
        "id": encode_feed_cursor((row["txid"], row["position"])),
        "type": row["type"],
        "occurred_at": occurred_at,
        "subject_id": row["subject_id"],
        "data": row["data"],
    }
