"""SQL expressions that write values as the API's JSON writes them (pydantic's rendering).

A page PostgreSQL renders (KeysetQuery.json_page) must read exactly like one the app renders:
decimals as strings with the column's scale ("2.500"), timestamps in UTC with a `Z` and with
microseconds only when there are any.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Numeric, Text, cast, func, literal_column

_RFC3339 = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


def decimal_text(value: ColumnElement[Any], scale_of: Numeric[Any]) -> ColumnElement[str]:
    """A decimal with the scale of `scale_of`, as text."""
    return cast(cast(value, scale_of), Text)


def timestamp_text(value: ColumnElement[Any]) -> ColumnElement[str]:
    """A timestamptz as RFC 3339 in UTC, its fraction left out when it is zero."""
    utc = func.timezone(literal_column("'UTC'"), value)
    text = func.to_char(utc, literal_column(f"'{_RFC3339}'"))
    return func.replace(text, literal_column("'.000000Z'"), literal_column("'Z'"))
