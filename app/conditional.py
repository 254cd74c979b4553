"""ETag / If-Match / If-None-Match: optimistic concurrency and cheap polling."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import Header, Request, Response
from pydantic import BaseModel

from app.domain.concurrency import ExpectedVersion
from app.domain.errors import BadRequest

IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=1024,
        description="The resource's ETag; the update is refused with 412 when it is stale.",
    ),
]


def version_etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(header: str | None) -> ExpectedVersion:
    """If-Match uses strong comparison: weak tags never match; `*` matches any version."""
    if header is None or header.strip() == "*":
        return ExpectedVersion(None)
    versions: set[int] = set()
    for raw in header.split(","):
        tag = raw.strip()
        if tag.startswith("W/"):
            continue
        if len(tag) < 2 or tag[0] != '"' or tag[-1] != '"':
            raise BadRequest("If-Match must hold one or more quoted ETags")
        value = tag[1:-1]
        if value.isdigit():
            versions.add(int(value))
    return ExpectedVersion(frozenset(versions))


def _etag_matches_any(etag: str, header: str) -> bool:
    """Weak comparison, as If-None-Match requires."""
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in header.split(","))


def cached_json(request: Request, body: BaseModel, *, max_age: int = 0) -> Response:
    """Serialize `body` with an ETag of its content; answer 304 when the client has it."""
    content = body.model_dump_json().encode()
    etag = f'"{hashlib.blake2b(content, digest_size=16).hexdigest()}"'
    headers = {"ETag": etag, "Cache-Control": f"private, max-age={max_age}, must-revalidate"}
    inm = request.headers.get("if-none-match")
    if inm is not None and _etag_matches_any(etag, inm):
        return Response(status_code=304, headers=headers)
    return Response(content=content, media_type="application/json", headers=headers)
