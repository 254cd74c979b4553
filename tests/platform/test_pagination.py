"""Cursor pagination: opaque cursors, and keyset pages that visit every row exactly once."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import DateTime, MetaData, String, Uuid, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.db.keyset import (
    CURSOR_PATTERN,
    InvalidCursor,
    KeysetQuery,
    PageRequest,
    decode_cursor,
    encode_cursor,
)
from app.http.dependencies import PageParams
from app.http.routing import DatabaseRoute
from app.schemas.common import Page

PROBLEM = "application/problem+json"
BASE = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
# Fixed, not uuid4(): parameter ids must be the same in every xdist worker's collection.
SOME_ID = uuid.UUID("5b0d7a3e-91c4-4f6e-a2d8-3c7e1f09b64a")


# --- cursors ----------------------------------------------------------------------------------


def test_cursor_round_trips() -> None:
    key = (BASE, uuid.uuid4())
    cursor = encode_cursor(key)
    assert decode_cursor(cursor) == key
    assert decode_cursor(cursor)[0].microsecond == 123456


def test_cursor_keeps_the_instant_of_other_offsets_in_utc() -> None:
    at = datetime(2026, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    ident = uuid.uuid4()
    decoded_at, decoded_id = decode_cursor(encode_cursor((at, ident)))
    assert decoded_at == at
    assert decoded_at.utcoffset() == timedelta(0)
    assert decoded_id == ident


def test_cursor_is_url_safe_and_matches_the_documented_pattern() -> None:
    for _ in range(50):
        cursor = encode_cursor((BASE, uuid.uuid4()))
        assert re.fullmatch(CURSOR_PATTERN, cursor), cursor
        assert set(cursor) <= set("0123456789abcdef-")


def test_page_request_without_cursor_starts_at_the_beginning() -> None:
    assert PageRequest(limit=10).after() is None


@pytest.mark.parametrize(
    "cursor",
    ["0-" + "0" * 32, "9" * 16 + "-" + "f" * 32, "1-" + SOME_ID.hex],
)
def test_every_cursor_the_pattern_admits_is_a_position(cursor: str) -> None:
    """The contract documents the pattern; a client (or a fuzzer) sending any string that
    matches it must get a page, not an error."""
    at, ident = decode_cursor(cursor)
    assert at.tzinfo is not None
    assert encode_cursor((at, ident)) == cursor


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "x",
        "",
        "é",
        "12",
        "-" + "0" * 32,
        "1-" + "0" * 31,
        "1-" + "0" * 33,
        "1-" + "A" * 32,  # upper-case hex is not what we hand out
        "1" * 17 + "-" + "0" * 32,  # beyond the documented range
        "-1-" + "0" * 32,
        "1-" + str(SOME_ID),  # dashed uuid
        encode_cursor((BASE, SOME_ID))[:-3],  # truncated
        encode_cursor((BASE, SOME_ID)) + "\n",
    ],
)
def test_tampered_or_garbage_cursor_is_invalid(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)
    with pytest.raises(InvalidCursor):
        PageRequest(limit=10, cursor=cursor or "x").after()


# --- keyset pages over real rows --------------------------------------------------------------


class ScratchBase(DeclarativeBase):
    """Not app.db.base.Base: this table must stay out of the migrations' metadata."""

    metadata = MetaData()


class Entry(ScratchBase):
    __tablename__ = "pagination_probe"
    __table_args__ = {"prefixes": ["TEMPORARY"]}  # noqa: RUF012 (SQLAlchemy API)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    label: Mapped[str] = mapped_column(String(20))


ENTRIES = KeysetQuery(select(*Entry.__table__.c), stamp=Entry.stamp, ident=Entry.id)
ROWS = 120
STAMPS = 12  # ten rows share each timestamp


async def _create_entries(connection: AsyncConnection) -> list[tuple[datetime, uuid.UUID]]:
    await connection.run_sync(ScratchBase.metadata.create_all)
    rows = [
        {
            "id": uuid.uuid4(),
            # interleaved, so insertion order is not the sort order
            "stamp": BASE + timedelta(microseconds=7 * ((i * 5) % STAMPS)),
            "label": f"entry {i}",
        }
        for i in range(ROWS)
    ]
    await connection.execute(insert(Entry), rows)
    return sorted((r["stamp"], r["id"]) for r in rows)


@pytest.fixture
async def entries(connection: AsyncConnection) -> list[tuple[datetime, uuid.UUID]]:
    """Rows in a temporary table on the test's connection (gone with its rollback)."""
    return await _create_entries(connection)


async def _walk(connection: AsyncConnection, **page: Any) -> list[list[Any]]:
    pages: list[list[Any]] = []
    cursor: str | None = None
    while True:
        rows, cursor = await ENTRIES.page(
            connection,
            PageRequest(cursor=cursor, **page),
        )
        pages.append(list(rows))
        if cursor is None:
            return pages
        assert len(pages) <= ROWS, "paging does not terminate"


async def test_pages_visit_every_row_once_in_key_order(
    connection: AsyncConnection, entries: list[tuple[datetime, uuid.UUID]]
) -> None:
    pages = await _walk(connection, limit=50)
    assert [len(p) for p in pages] == [50, 50, 20]
    seen = [(e["stamp"], e["id"]) for p in pages for e in p]
    assert seen == entries
    assert len(set(seen)) == ROWS


async def test_exactly_full_last_page_has_no_next_cursor(
    connection: AsyncConnection, entries: list[tuple[datetime, uuid.UUID]]
) -> None:
    pages = await _walk(connection, limit=60)
    assert [len(p) for p in pages] == [60, 60]  # no trailing empty page


async def test_updated_since_filters_on_the_stamp(
    connection: AsyncConnection, entries: list[tuple[datetime, uuid.UUID]]
) -> None:
    since = BASE + timedelta(microseconds=7 * 4)  # the 5th of 12 timestamps, inclusive
    pages = await _walk(connection, limit=50, updated_since=since)
    seen = [(e["stamp"], e["id"]) for p in pages for e in p]
    assert seen == [key for key in entries if key[0] >= since]
    assert len(seen) == 80
    assert [len(p) for p in pages] == [50, 30]


LABELLED = KeysetQuery(
    select(*Entry.__table__.c, (Entry.label == bindparam("mine")).label("is_mine")),
    stamp=Entry.stamp,
    ident=Entry.id,
)


async def test_parameters_of_the_statement_itself_are_bound_on_every_page(
    connection: AsyncConnection, entries: list[tuple[datetime, uuid.UUID]]
) -> None:
    cursor: str | None = None
    mine = []
    while True:
        rows, cursor = await LABELLED.page(
            connection, PageRequest(limit=50, cursor=cursor), bind={"mine": "entry 7"}
        )
        mine += [r["id"] for r in rows if r["is_mine"]]
        if cursor is None:
            break
    assert len(mine) == 1


async def test_pages_are_stable_under_concurrent_inserts(
    connection: AsyncConnection, entries: list[tuple[datetime, uuid.UUID]]
) -> None:
    first, cursor = await ENTRIES.page(connection, PageRequest(limit=50))
    assert cursor is not None
    last_seen = (first[-1]["stamp"], first[-1]["id"])
    earlier, later = uuid.uuid4(), uuid.uuid4()
    await connection.execute(
        insert(Entry),
        [
            {"id": earlier, "stamp": BASE - timedelta(days=1), "label": "behind the cursor"},
            {"id": later, "stamp": BASE + timedelta(days=1), "label": "ahead of the cursor"},
        ],
    )
    rest: list[Any] = []
    while cursor is not None:
        rows, cursor = await ENTRIES.page(
            connection,
            PageRequest(limit=50, cursor=cursor),
        )
        rest.extend(rows)
    ids = [e["id"] for e in rest]
    assert earlier not in ids
    assert ids[-1] == later
    assert [(e["stamp"], e["id"]) for e in rest[:-1]] == [k for k in entries if k > last_seen]


# --- through HTTP -----------------------------------------------------------------------------


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    stamp: datetime
    label: str


router = APIRouter(route_class=DatabaseRoute)


@router.get("/entries", response_model=Page[EntryOut])
async def list_entries(request: Request, page: PageParams) -> Page[EntryOut]:
    reader: AsyncConnection = request.state.reader
    rows, next_cursor = await ENTRIES.page(reader, page)
    return Page[EntryOut](items=[EntryOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@pytest.fixture
async def test_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    app.include_router(router, prefix="/test-only")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_http_pages_walk_all_rows(
    test_client: httpx.AsyncClient, entries: list[tuple[datetime, uuid.UUID]]
) -> None:
    seen: list[tuple[datetime, uuid.UUID]] = []
    params: dict[str, Any] = {}
    sizes: list[int] = []
    while True:
        response = await test_client.get("/test-only/entries", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        sizes.append(len(body["items"]))
        seen += [(datetime.fromisoformat(i["stamp"]), uuid.UUID(i["id"])) for i in body["items"]]
        if body["next_cursor"] is None:
            break
        params = {"cursor": body["next_cursor"]}
    assert sizes == [50, 50, 20]  # the default page size is 50
    assert seen == entries


async def test_http_page_size_and_updated_since(
    test_client: httpx.AsyncClient, entries: list[tuple[datetime, uuid.UUID]]
) -> None:
    everything = await test_client.get("/test-only/entries", params={"limit": 500})
    assert len(everything.json()["items"]) == ROWS
    assert everything.json()["next_cursor"] is None

    since = (BASE + timedelta(microseconds=7 * 11)).isoformat()
    recent = await test_client.get(
        "/test-only/entries", params={"limit": 500, "updated_since": since}
    )
    assert len(recent.json()["items"]) == ROWS // STAMPS


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "garbage!"}, "cursor"),
        ({"cursor": "c" * 513}, "cursor"),
        ({"updated_since": "2026-03-01T12:00:00"}, "updated_since"),  # no offset
    ],
)
async def test_http_bad_page_parameters_are_422_problems(
    test_client: httpx.AsyncClient,
    entries: list[tuple[datetime, uuid.UUID]],
    params: dict[str, Any],
    parameter: str,
) -> None:
    response = await test_client.get("/test-only/entries", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == 422
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert [e.get("parameter") for e in body["errors"]] == [parameter]
    assert all("pointer" not in e for e in body["errors"])
