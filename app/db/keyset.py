"""Keyset pagination over a (timestamp, id) sort key: stable under concurrent inserts.

A cursor is `<microseconds since 1970>-<id as 32 hex digits>`. Clients treat it as opaque, but
its syntax is public (CURSOR_PATTERN, in the contract), and every string that matches it is a
position a page can start after, so no well-formed cursor is ever refused.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import InstrumentedAttribute

from app.db.base import AnyRow

CursorKey = tuple[datetime, uuid.UUID]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
# 16 digits reach the year 2286, well inside what a datetime holds.
CURSOR_PATTERN = r"^[0-9]{1,16}-[0-9a-f]{32}$"
_CURSOR = re.compile(CURSOR_PATTERN)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class InvalidCursor(ValueError):
    """The cursor is not one this API could have handed out."""


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int
    cursor: str | None = None
    updated_since: datetime | None = None

    def after(self) -> CursorKey | None:
        return decode_cursor(self.cursor) if self.cursor else None


def encode_cursor(key: CursorKey) -> str:
    stamp, ident = key
    return f"{(stamp - _EPOCH) // _MICROSECOND}-{ident.hex}"


def decode_cursor(cursor: str) -> CursorKey:
    if not _CURSOR.fullmatch(cursor):
        raise InvalidCursor("the cursor is not one this API handed out")
    micros, ident = cursor.split("-")
    return _EPOCH + int(micros) * _MICROSECOND, uuid.UUID(hex=ident)


async def fetch_page(
    reader: AsyncConnection,
    stmt: Select[Any],
    *,
    page: PageRequest,
    stamp: InstrumentedAttribute[Any],
    ident: InstrumentedAttribute[Any],
) -> tuple[Sequence[AnyRow], str | None]:
    """Rows after the cursor in (stamp, id) order, plus the cursor of the next page.

    `updated_since` filters on `stamp`, so a syncing client lists by `updated_at` and keeps the
    last `next_cursor` (or its last seen `updated_at`) to fetch only what changed.
    """
    if page.updated_since is not None:
        stmt = stmt.where(stamp >= page.updated_since)
    after = page.after()
    if after is not None:
        stmt = stmt.where(tuple_(stamp, ident) > tuple_(*after))
    rows = (await reader.execute(stmt.order_by(stamp, ident).limit(page.limit + 1))).all()
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    last = rows[-1]
    return rows, encode_cursor((getattr(last, stamp.key), getattr(last, ident.key)))
