"""ETag / If-Match / If-None-Match: optimistic concurrency and cheap polling."""

from __future__ import annotations

import hashlib
import re
from typing import Annotated

from fastapi import Header, Request, Response
from pydantic import BaseModel

from app.domain.concurrency import ExpectedVersion
from app.domain.errors import BadRequest

# RFC 9110 13.1.1: `*` or a comma-separated list of (possibly weak) entity tags.
_ENTITY_TAG = r'(W/)?"[\x21\x23-\x7e]*"'
IF_MATCH_PATTERN = rf"^[ \t]*(\*|{_ENTITY_TAG}([ \t]*,[ \t]*{_ENTITY_TAG})*)[ \t]*$"
_IF_MATCH = re.compile(IF_MATCH_PATTERN)
_TAG = re.compile(r'(W/)?"([^"]*)"')

# The syntax is documented but checked by parse_if_match, so a malformed header always gets
# the documented 400.
IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The resource's ETag; the update is refused with 412 when it is stale.",
        json_schema_extra={"maxLength": 1024, "pattern": IF_MATCH_PATTERN},
    ),
]


def version_etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(header: str | None) -> ExpectedVersion:
    """If-Match uses strong comparison: weak tags never match; `*` matches any version."""
    if header is None:
        return ExpectedVersion(None)
    if len(header) > 1024 or not _IF_MATCH.fullmatch(header):
        raise BadRequest("If-Match must be `*` or one or more quoted ETags")
    if header.strip(" \t") == "*":
        return ExpectedVersion(None)
    versions = {
        int(m.group(2))
        for m in _TAG.finditer(header)
        if m.group(1) is None and m.group(2).isdigit()
    }
    return ExpectedVersion(frozenset(versions))


def _etag_matches_any(etag: str, header: str) -> bool:
    """Weak comparison, as If-None-Match requires."""
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in header.split(","))


def cached_json(request: Request, body: BaseModel | bytes, *, max_age: int = 0) -> Response:
    """Serialize `body` (or send JSON already serialized) with an ETag of its content; answer
    304 when the client has it."""
    content = body if isinstance(body, bytes) else body.model_dump_json().encode()
    etag = f'"{hashlib.blake2b(content, digest_size=16).hexdigest()}"'
    headers = {"ETag": etag, "Cache-Control": f"private, max-age={max_age}, must-revalidate"}
    inm = request.headers.get("if-none-match")
    if inm is not None and _etag_matches_any(etag, inm):
        return Response(status_code=304, headers=headers)
    return Response(content=content, media_type="application/json", headers=headers)
