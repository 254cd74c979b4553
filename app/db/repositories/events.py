"""Writing to the outbox and reading it in commit-safe order.

Positions come from a sequence, but transactions commit in any order: a reader that returned
position 7 could later see position 6 commit. The feed is therefore ordered by (txid,
position) and returns only events whose transaction ended before the oldest transaction still
running (`pg_snapshot_xmin` of the reader's snapshot), plus the reader's own, uncommitted ones.
Any event that becomes visible later belongs to a transaction at or past that horizon, so it
sorts after everything already returned: a reader that resumes after its last position never
misses an event and never sees one twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Uuid, bindparam, func, or_, select, text, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.types import String

from app.db.models.events import OutboxEvent
from app.db.prepared import Prepared, as_json

FeedPosition = tuple[int, int]  # (txid, position)


@dataclass(frozen=True, slots=True)
class NewEvent:
    type: str
    subject_id: uuid.UUID
    data: dict[str, Any]
    owner_ids: Sequence[uuid.UUID] | None = None


# All events of a change from one JSON array, whatever their number, in the array's order (so
# their positions follow it).
_APPEND = Prepared(
    text(
        "INSERT INTO events_outbox (type, subject_id, data, owner_ids) "
        "SELECT e->>'type', (e->>'subject_id')::uuid, e->'data', "
        "CASE WHEN e ? 'owner_ids' THEN ARRAY("
        "SELECT jsonb_array_elements_text(e->'owner_ids')::uuid) END "
        "FROM jsonb_array_elements(:events) WITH ORDINALITY AS t(e, n) ORDER BY n"
    ).bindparams(bindparam("events", type_=JSONB))
)


async def append(session: AsyncSession, events: Sequence[NewEvent]) -> None:
    """One INSERT for all events of a change, in the caller's transaction."""
    if not events:
        return
    rows = [
        {"type": e.type, "subject_id": e.subject_id, "data": e.data}
        | ({"owner_ids": list(e.owner_ids)} if e.owner_ids is not None else {})
        for e in events
    ]
    await _APPEND.execute(session, events=as_json(rows))


_CURRENT_TXID = func.pg_current_xact_id_if_assigned()
_HORIZON = func.pg_snapshot_xmin(func.pg_current_snapshot())
_SETTLED = or_(
    OutboxEvent.txid < _HORIZON.cast(String).cast(BigInteger),
    OutboxEvent.txid == _CURRENT_TXID.cast(String).cast(BigInteger),
)
_VISIBLE = or_(
    OutboxEvent.type == func.any(bindparam("all_types", type_=ARRAY(String))),
    (OutboxEvent.type == func.any(bindparam("owned_types", type_=ARRAY(String))))
    & (bindparam("caller", type_=Uuid) == func.any(OutboxEvent.owner_ids)),
)
_COLUMNS = select(
    OutboxEvent.txid,
    OutboxEvent.position,
    OutboxEvent.type,
    OutboxEvent.occurred_at,
    OutboxEvent.subject_id,
    OutboxEvent.data,
)
_ORDER = (OutboxEvent.txid, OutboxEvent.position)
_FROM_START = Prepared(
    _COLUMNS.where(_SETTLED, _VISIBLE).order_by(*_ORDER).limit(bindparam("row_limit"))
)
_AFTER = Prepared(
    _COLUMNS.where(
        _SETTLED,
        _VISIBLE,
        tuple_(*_ORDER) > tuple_(bindparam("after_txid"), bindparam("after_position")),
    )
    .order_by(*_ORDER)
    .limit(bindparam("row_limit"))
)


async def read_feed(
    reader: AsyncConnection,
    *,
    after: FeedPosition | None,
    all_types: Sequence[str],
    owned_types: Sequence[str],
    caller: uuid.UUID,
    limit: int,
) -> list[dict[str, Any]]:
    """Settled events after `after`: of `all_types` any, of `owned_types` the caller's own."""
    params: dict[str, Any] = {
        "all_types": list(all_types),
        "owned_types": list(owned_types),
        "caller": caller,
        "row_limit": limit,
    }
    if after is None:
        return await _FROM_START.all(reader, **params)
    params["after_txid"], params["after_position"] = after
    return await _AFTER.all(reader, **params)
