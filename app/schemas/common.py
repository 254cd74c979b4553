"""Shapes every area's schemas share: the list page, instants on the wire, request bodies."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

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

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page"
    )


class RequestModel(BaseModel):
    """Every request body: unknown fields are refused, never silently dropped (no mass
    assignment)."""

    model_config = ConfigDict(extra="forbid")
