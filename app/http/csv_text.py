"""Reports as CSV when the caller asks for it (`Accept: text/csv`): RFC 4180, UTF-8, comma
separated, decimals with a point, a header row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Request, Response

CSV_MEDIA_TYPE = "text/csv"
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            CSV_MEDIA_TYPE: {"schema": {"type": "string"}},
        },
        "description": "JSON, or CSV with `Accept: text/csv`",
    }
}


def wants_csv(request: Request) -> bool:
    """True when the Accept header names text/csv ahead of JSON (or without it)."""
    ranked = []
    for part in request.headers.get("accept", "").split(","):
        media, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranked.append((quality, media.strip().lower()))
    csv_q = max((q for q, m in ranked if m == CSV_MEDIA_TYPE), default=0.0)
    json_q = max((q for q, m in ranked if m in ("application/json", "*/*", "application/*")),
                 default=0.0)  # fmt: skip
    return csv_q > 0 and csv_q >= json_q


# A spreadsheet runs a cell that starts like a formula; texts are the users' own words.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """The value as written: nothing for None; a text that would start a formula is quoted
    with a leading apostrophe (OWASP's advice for CSV injection). Numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return Response(
        out.getvalue(),
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
