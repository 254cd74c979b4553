"""ASGI middleware: request id, access log, body size cap, and the last-resort 500 problem."""

from __future__ import annotations

import logging
import re
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.problems import problem, unexpected_error_response
from app.http.request_context import REQUEST_ID_HEADER, begin_request, end_request

access_log = logging.getLogger("backoffice.access")
_DIGITS = re.compile(r"[0-9]+")  # str.isdigit() also admits digits int() refuses, such as "²"


class RequestContextMiddleware:
    """Sets and echoes X-Request-ID, logs one access line, and turns an unhandled error into a
    500 problem that carries the request id (FastAPI's own 500 handler runs outside of this).

    The access line holds method, route template, status and duration: no query string, no
    client address, no body, so no personal data reaches the logs.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id, token = begin_request(scope)
        started_at = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if response_started:
                raise
            response = await unexpected_error_response(Request(scope), exc)
            await response(scope, receive, send_with_id)
        finally:
            access_log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": _route_template(scope),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started_at) * 1000, 2),
                },
            )
            end_request(token)


def _route_template(scope: Scope) -> str:
    """The matched path template with its router prefix (`/api/v1/admin/users/{user_id}`).

    FastAPI 0.165 keeps included routes un-prefixed in `scope["route"]`; the prefixed template
    lives in its effective route context.
    """
    effective = scope.get("fastapi", {}).get("effective_route_context")
    path = getattr(effective, "path", None) or getattr(scope.get("route"), "path", None)
    return str(path) if path else "<unmatched>"


class BodySizeLimitMiddleware:
    """413 problem for bodies over the cap: at once when Content-Length says so, else as soon
    as the streamed bytes pass it (nothing past the cap is read)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if _DIGITS.fullmatch(declared) and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI re-raises HTTPExceptions from body reading to our handler.
                    raise HTTPException(413, self._detail())
            return message

        await self.app(scope, receive_within_limit, send)

    def _detail(self) -> str:
        return f"the request body is larger than {self.max_bytes} bytes"

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(413, detail=self._detail(), instance=scope.get("path"))
        await response(scope, receive, send)
