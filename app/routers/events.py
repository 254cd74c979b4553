"""The event feed: what changed, in commit order, for clients that mirror the back office."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from app.domain.events.service import (
    DEFAULT_FEED_PAGE,
    FEED_CURSOR_PATTERN,
    MAX_FEED_PAGE,
    read_feed,
)
from app.domain.events.types import FEED_PERMISSIONS, EventType
from app.domain.identity.principal import Principal
from app.http.conditional import cached_json
from app.http.dependencies import ReaderDep, require
from app.http.routing import AreaRouter, DatabaseRoute
from app.schemas.events import EventPage, EventRead

router = AreaRouter(prefix="/api/v1", tags=["events"], route_class=DatabaseRoute)

FEED_READER = require(*FEED_PERMISSIONS)


@router.get(
    "/events",
    operation_id="events_list_events",
    response_model=EventPage,
    responses={304: {"description": "Not Modified (If-None-Match matched)"}},
)
async def events_list_events(
    request: Request,
    reader: ReaderDep,
    principal: Annotated[Principal, FEED_READER],
    after: Annotated[
        str | None,
        Query(pattern=FEED_CURSOR_PATTERN, description="`next_cursor` of the previous page"),
    ] = None,
    types: Annotated[list[EventType] | None, Query(description="Only these event types")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_FEED_PAGE)] = DEFAULT_FEED_PAGE,
) -> Response:
    """Events after `after`, oldest first, of the types the caller may read: stock and item
    changes for catalogue readers; partner and order changes for their readers (integration
    clients only for their own customers and orders). Never skips an event that commits late:
    keep `next_cursor` and poll with it (send the ETag in `If-None-Match` for a cheap 304)."""
    page = await read_feed(
        reader,
        principal,
        after=after,
        types=frozenset(types) if types else None,
        limit=limit,
    )
    body = EventPage(
        items=[EventRead.model_validate(e) for e in page.events], next_cursor=page.next_cursor
    )
    return cached_json(request, body)
