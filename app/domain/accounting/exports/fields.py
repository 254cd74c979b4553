"""How values are written in the semicolon-separated files of both exports: text in double
quotes (a quote inside doubled), amounts with a decimal comma and no thousands separator,
records ended by CR LF."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

SEPARATOR = ";"
RECORD_END = "\r\n"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def quoted(value: str | None) -> str:
    """Text in double quotes; nothing at all for no value. Control characters and the Unicode
    line and paragraph separators (a line break would end the record) become spaces."""
    if value is None:
        return ""
    return '"' + _CONTROL.sub(" ", value).replace('"', '""') + '"'


def amount(value: Decimal) -> str:
    """`1234,50`: two decimals, a comma, no grouping."""
    return f"{value:.2f}".replace(".", ",")


def day_month(day: date) -> str:
    """`DDMM`, as DATEV's Belegdatum."""
    return f"{day.day:02d}{day.month:02d}"


def compact_date(day: date) -> str:
    """`YYYYMMDD` (written by hand: strftime drops the zeros of years before 1000)."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def german_date(day: date) -> str:
    """`DD.MM.YYYY`."""
    return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"


def record(values: Iterable[str]) -> str:
    """One line of already formatted values."""
    return SEPARATOR.join(values) + RECORD_END
