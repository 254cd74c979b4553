"""Cursor pagination: opaque cursors over a stable sort key, `{items, next_cursor}` pages."""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, Field

from app.domain.errors import FieldError, InvalidInput

_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


def _rfc3339_text(value: object) -> object:
    """Only RFC 3339 text: pydantic alone would also read numbers as Unix timestamps."""
    if isinstance(value, str) and not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time with offset, e.g. 2025-01-31T08:00:00Z")
    return value


def as_utc(value: datetime) -> datetime:
    """In UTC, as the database stores it; an instant UTC cannot hold (year 0 or 10000) is bad
    input, not a server error."""
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("lies outside the years 1 to 9999 in UTC") from exc


# A timestamp in a query parameter, as the contract's `format: date-time` promises.
Instant = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text), AfterValidator(as_utc)]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

T = TypeVar("T")

CursorKey = tuple[datetime, uuid.UUID]


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int
    cursor: str | None = None
    updated_since: datetime | None = None

    def after(self) -> CursorKey | None:
        return decode_cursor(self.cursor) if self.cursor else None


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page"
    )


def encode_cursor(key: CursorKey) -> str:
    raw = json.dumps([key[0].isoformat(), str(key[1])], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> CursorKey:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, ident = json.loads(raw)
        if not isinstance(stamp, str) or not isinstance(ident, str):
            raise TypeError("cursor parts must be strings")
        at = datetime.fromisoformat(stamp)
        if at.tzinfo is None:
            raise ValueError("naive timestamp")
        return as_utc(at), uuid.UUID(ident)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(
            "the cursor is not one this API handed out",
            [FieldError("not a valid cursor", parameter="cursor")],
        ) from exc
