"""Keyset pagination over a (timestamp, id) sort key: stable under concurrent inserts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.pagination import CursorKey, PageRequest, encode_cursor

R = TypeVar("R")


async def fetch_page(
    session: AsyncSession,
    stmt: Select[R],
    *,
    page: PageRequest,
    stamp: InstrumentedAttribute[Any],
    ident: InstrumentedAttribute[Any],
) -> tuple[Sequence[R], str | None]:
    """Rows after the cursor in (stamp, id) order, plus the cursor of the next page.

    `updated_since` filters on `stamp`, so a syncing client lists by `updated_at` and keeps the
    last `next_cursor` (or its last seen `updated_at`) to fetch only what changed.
    """
    if page.updated_since is not None:
        stmt = stmt.where(stamp >= page.updated_since)
    after: CursorKey | None = page.after()
    if after is not None:
        stmt = stmt.where(tuple_(stamp, ident) > tuple_(*after))
    rows = (await session.scalars(stmt.order_by(stamp, ident).limit(page.limit + 1))).all()
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    last = rows[-1]
    return rows, encode_cursor((getattr(last, stamp.key), getattr(last, ident.key)))
