"""Reports as CSV when the caller asks for it (`Accept: text/csv`): RFC 4180, UTF-8, comma
separated, decimals with a point, a header row."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Sequence
from typing import IO, Any

from fastapi import Request, Response

CSV_MEDIA_TYPE = "text/csv"
_SPOOL_IN_MEMORY = 16 * 1024 * 1024
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


class CsvSpool:
    """A CSV written a batch of rows at a time into a spooled temporary file (in memory up to
    16 MB, then on disk), for a report too long to hold: `finish` hands out the file to send."""

    def __init__(self, header: Sequence[str]) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
        self._text = io.TextIOWrapper(self._file, encoding="utf-8", newline="")
        self._writer = csv.writer(self._text, lineterminator="\r\n")
        self._writer.writerow(header)

    def write(self, rows: Iterable[Sequence[Any]]) -> None:
        self._writer.writerows([_cell(v) for v in row] for row in rows)

    def finish(self) -> IO[bytes]:
        self._text.flush()
        self._text.detach()
        return self._file

    def discard(self) -> None:
        self._file.close()


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
