"""Files the API hands out as downloads: confidential (never kept in a shared cache), named by
Content-Disposition, and streamed from a file with their Content-Length when they are large."""

from __future__ import annotations

import functools
import io
from typing import IO

from fastapi import Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

_CHUNK = 64 * 1024
# Journals and ledgers are confidential: no copy of a download in a shared cache.
_NO_STORE = {"Cache-Control": "no-store"}


def attachment_headers(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"', **_NO_STORE}


def download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(content=content, media_type=media_type, headers=attachment_headers(filename))


def file_download(file: IO[bytes], media_type: str, filename: str) -> Response:
    """The file from its start, streamed in chunks with its Content-Length, and closed once
    sent (or when the client goes away)."""
    size = file.seek(0, io.SEEK_END)
    file.seek(0)
    return StreamingResponse(
        iter(functools.partial(file.read, _CHUNK), b""),
        media_type=media_type,
        headers=attachment_headers(filename) | {"Content-Length": str(size)},
        background=BackgroundTask(file.close),
    )
