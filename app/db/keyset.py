"""Keyset pagination over a (timestamp, id) sort key: stable under concurrent inserts.

A cursor is `<microseconds since 1970>-<id as 32 hex digits>`. Clients treat it as opaque, but
its syntax is public (CURSOR_PATTERN, in the contract), and every string that matches it is a
position a page can start after, so no well-formed cursor is ever refused.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    Text,
    bindparam,
    cast,
    func,
    select,
    true,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import InstrumentedAttribute

from app.db.prepared import Prepared

CursorKey = tuple[datetime, uuid.UUID]
# A select of any columns.
AnySelect = Select[*tuple[Any, ...]]

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


Condition = Callable[[BindParameter[Any]], ColumnElement[bool]]
# A model attribute or a column of a subquery.
SortColumn = InstrumentedAttribute[Any] | ColumnElement[Any]
# Given the columns of a page's row, the labelled columns of its JSON object, in order.
Renderer = Callable[[Any], list[ColumnElement[Any]]]


class KeysetQuery:
    """A list statement paged by (stamp, id) in that order, with optional filters.

    Each shape of the query (which filters are given, whether a cursor is) is compiled once and
    run on the driver (see prepared.py), so a page costs about what the query itself costs.
    `updated_since` filters on `stamp`: a syncing client lists by `updated_at` and keeps the
    last `next_cursor` (or its last seen `updated_at`) to fetch only what changed. Given
    `render`, `json_page` has PostgreSQL write each row as the JSON object the API sends.
    """

    def __init__(
        self,
        statement: AnySelect,
        *,
        stamp: SortColumn,
        ident: SortColumn,
        filters: Mapping[str, Condition] | None = None,
        render: Renderer | None = None,
    ) -> None:
        self._statement, self._stamp, self._ident = statement, stamp, ident
        self._filters = dict(filters or {})
        self._shapes: dict[tuple[bool, bool, frozenset[str], bool], Prepared] = {}
        self._render = render

    def _rows(self, since: bool, after: bool, filters: frozenset[str]) -> AnySelect:
        stmt = self._statement
        for name in sorted(filters):
            stmt = stmt.where(self._filters[name](bindparam(f"f_{name}")))
        if since:
            stmt = stmt.where(self._stamp >= bindparam("updated_since"))
        if after:
            position = tuple_(bindparam("after_stamp"), bindparam("after_id"))
            stmt = stmt.where(tuple_(self._stamp, self._ident) > position)
        return stmt.order_by(self._stamp, self._ident).limit(bindparam("row_limit"))

    def _rendered(self, rows: AnySelect) -> AnySelect:
        """The page's sort keys, each with its row as the text of a JSON object."""
        assert self._render is not None
        page = rows.subquery("page")
        # row_to_json writes compact JSON, and a lateral select names the object's keys.
        obj = select(*self._render(page.c)).correlate(page).lateral("obj")
        stamp, ident = page.c[str(self._stamp.key)], page.c[str(self._ident.key)]
        return (
            select(stamp, ident, cast(func.row_to_json(obj.table_valued()), Text).label("json"))
            .select_from(page.join(obj, true()))
            .order_by(stamp, ident)
        )

    def _shape(self, since: bool, after: bool, filters: frozenset[str], json: bool) -> Prepared:
        key = (since, after, filters, json)
        prepared = self._shapes.get(key)
        if prepared is None:
            rows = self._rows(since, after, filters)
            prepared = self._shapes[key] = Prepared(self._rendered(rows) if json else rows)
        return prepared

    def _bound(
        self,
        page: PageRequest,
        bind: Mapping[str, Any] | None,
        filters: Mapping[str, Any],
        *,
        json: bool,
    ) -> tuple[Prepared, dict[str, Any]]:
        """The statement for this page's shape, and its parameters."""
        given = {name: value for name, value in filters.items() if value is not None}
        unknown = set(given) - set(self._filters)
        if unknown:
            raise TypeError(f"unknown filters {sorted(unknown)}")
        after = page.after()
        params: dict[str, Any] = dict(bind or {})
        params.update({f"f_{name}": value for name, value in given.items()})
        params["row_limit"] = page.limit + 1
        if page.updated_since is not None:
            params["updated_since"] = page.updated_since
        if after is not None:
            params["after_stamp"], params["after_id"] = after
        since = page.updated_since is not None
        return self._shape(since, after is not None, frozenset(given), json), params

    async def page(
        self,
        reader: AsyncConnection,
        page: PageRequest,
        *,
        bind: Mapping[str, Any] | None = None,
        **filters: Any,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Rows after the cursor (at most `page.limit`), and the cursor of the next page.

        `bind` gives the values of parameters the statement itself names (a caller's id that a
        column or a join depends on), as opposed to optional filters."""
        return await self._page(reader, page, bind, filters, json=False)

    async def json_page(
        self,
        reader: AsyncConnection,
        page: PageRequest,
        *,
        bind: Mapping[str, Any] | None = None,
        **filters: Any,
    ) -> tuple[str, str | None]:
        """As `page`, with the rows rendered by PostgreSQL: the page's objects as the text of
        a JSON array's elements, and the cursor of the next page. Building and validating
        models for a large page costs the app several times what the query costs."""
        rows, cursor = await self._page(reader, page, bind, filters, json=True)
        return ",".join(row["json"] for row in rows), cursor

    async def _page(
        self,
        reader: AsyncConnection,
        page: PageRequest,
        bind: Mapping[str, Any] | None,
        filters: Mapping[str, Any],
        *,
        json: bool,
    ) -> tuple[list[dict[str, Any]], str | None]:
        shape, params = self._bound(page, bind, filters, json=json)
        rows = await shape.all(reader, **params)
        if len(rows) <= page.limit:
            return rows, None
        rows = rows[: page.limit]
        last = rows[-1]
        return rows, encode_cursor((last[str(self._stamp.key)], last[str(self._ident.key)]))
