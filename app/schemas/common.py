"""Shapes every area's schemas share: the list page, instants on the wire, request bodies."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
)

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

# Years 1900 to 2999: the books' dates. PostgreSQL and the driver turn the calendar's ends
# (years 1 and 9999) into -infinity and infinity, which no report or check could place.
# The month and the day are spelled out so that what the pattern draws is nearly always a date: a
# fuzzer (schemathesis) draws from the pattern when the format's values miss its years.
BOOK_DATE_PATTERN = r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
_BOOK_DATE = re.compile(BOOK_DATE_PATTERN, re.ASCII)


def _iso_date_text(value: object) -> object:
    """Only `YYYY-MM-DD` from 1900 to 2999: pydantic alone would also read numbers as Unix
    timestamps."""
    if not isinstance(value, str) or not _BOOK_DATE.fullmatch(value):
        raise ValueError("must be a date from 1900 to 2999 such as 2026-01-31")
    return value


# A calendar date of the books (a document date, a posting date, a report's day).
CalendarDate = Annotated[
    date,
    BeforeValidator(_iso_date_text),
    WithJsonSchema({"type": "string", "format": "date", "pattern": BOOK_DATE_PATTERN}),
]

# The patterns spell out every class: `\s` means one set of characters to the ECMA-262 regexes
# a client validates the contract with and another to the server's (U+0085, U+FEFF).
CONTROLS = r"\x00-\x1f\x7f-\x9f"
SPACES = r" \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
ASCII_SPACE = r"[\t\n\v\f\r ]"
# No control characters (PostgreSQL text cannot hold NUL) and at least one visible character;
# the length is checked before surrounding whitespace is stripped, as the contract says.
NAME_PATTERN = rf"^[^{CONTROLS}]*[^{CONTROLS}{SPACES}][^{CONTROLS}]*$"
Name = Annotated[
    str, Field(min_length=1, max_length=200, pattern=NAME_PATTERN), AfterValidator(str.strip)
]
# Free text on one line (may be empty), and longer text that may span lines.
LINE_PATTERN = rf"^[^{CONTROLS}]*$"
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"

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


def _decimal_pattern(places: int, *, signed: bool = False) -> str:
    sign = "-?" if signed else ""
    return rf"^{sign}[0-9]{{1,15}}(\.[0-9]{{1,{places}}})?$"


def _decimal_text(pattern: str, example: str) -> BeforeValidator:
    """Only a JSON string in plain decimal notation: a float would lose cents, and pydantic
    alone would also take numbers, exponents and surrounding spaces."""
    compiled = re.compile(pattern)

    def check(value: object) -> object:
        if not isinstance(value, str) or not compiled.fullmatch(value):
            raise ValueError(f'must be a decimal string such as "{example}"')
        return value

    return BeforeValidator(check)


def _decimal_schema(pattern: str, example: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": pattern, "examples": [example]})


_MONEY, _QUANTITY = _decimal_pattern(2), _decimal_pattern(3)
# Greater than zero, without a lookahead (schema-driven clients and fuzzers cannot all read one):
# an integer part from 1 up, or 0 with a non-zero digit among at most three decimals.
_POSITIVE = r"([1-9][0-9]{0,14}(\.[0-9]{1,3})?|0\.([1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9]))"
_POSITIVE_QUANTITY = rf"^{_POSITIVE}$"
_NONZERO_QUANTITY = rf"^-?{_POSITIVE}$"

# Money: NUMERIC(18, 2) end to end. Quantities: NUMERIC(18, 3), for units that allow fractions.
MoneyAmount = Annotated[
    Decimal, _decimal_text(_MONEY, "1234.50"), _decimal_schema(_MONEY, "1234.50")
]
Quantity = Annotated[Decimal, _decimal_text(_QUANTITY, "12.5"), _decimal_schema(_QUANTITY, "12.5")]
PositiveQuantity = Annotated[
    Decimal,
    _decimal_text(_POSITIVE_QUANTITY, "12.5"),
    _decimal_schema(_POSITIVE_QUANTITY, "12.5"),
]
NonzeroQuantity = Annotated[
    Decimal,
    _decimal_text(_NONZERO_QUANTITY, "-2"),
    _decimal_schema(_NONZERO_QUANTITY, "-2"),
]


def omittable(description: str | None = None) -> Any:
    """A field a partial update may leave out, but may not send as null (it always has a
    value): declare it with its plain type and this as the default."""

    def no_default(schema: dict[str, Any]) -> None:
        schema.pop("default", None)

    return Field(default=None, description=description, json_schema_extra=no_default)


def _whole_number(value: object) -> object:
    """A JSON integer, also written as 3.0 (JSON Schema counts that as an integer); never a
    string or a boolean."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be an integer")
        return int(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]

# In responses, amounts always carry the places the database stores, whether they come from a
# read or from the request that just wrote them ("2.500", never "2.5" once and "2.500" later).
_CENT, _THOUSANDTH = Decimal("0.01"), Decimal("0.001")
StoredMoney = Annotated[Decimal, AfterValidator(lambda d: d.quantize(_CENT))]
StoredQuantity = Annotated[Decimal, AfterValidator(lambda d: d.quantize(_THOUSANDTH))]
