"""Per-request context: the request id, readable anywhere while a request is handled."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token

from starlette.types import Scope

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _VALID_REQUEST_ID.match(text) else None
    return None


def begin_request(scope: Scope) -> tuple[str, Token[str | None]]:
    """Take the caller's X-Request-ID when it is sane, else make one."""
    request_id = _incoming_request_id(scope) or uuid.uuid4().hex
    return request_id, _request_id.set(request_id)


def end_request(token: Token[str | None]) -> None:
    _request_id.reset(token)
