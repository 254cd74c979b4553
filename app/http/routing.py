"""The route class that gives each request its database access, in one place.

A request that changes something runs in one unit of work, committed before the response
leaves (FastAPI's post-response cleanup of `yield` dependencies would commit after the client
already saw 200), so a failing commit becomes an error response; the idempotency record of the
request is written in the same transaction. A request that only reads (GET) gets a pooled
connection outside any transaction: no BEGIN/COMMIT, no pre-ping round trip.

The caller is authorized before FastAPI reads the body: a caller without the permission gets
401/403 whatever it sent, never a 422 that answers for a route it may not use.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import Scope

from app.db.session import unit_of_work
from app.http.idempotency import record_response
from app.http.problems import oauth_error
from app.http.route_policy import permission_requirements

READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


class DatabaseRoute(APIRoute):
    @property
    def reads_only(self) -> bool:
        return self.methods is not None and self.methods <= READ_ONLY_METHODS

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        # The route's permission checks, run ahead of its other dependencies (they run again
        # among them, on the caller already authenticated).
        requirements = permission_requirements(self)

        async def authorize(request: Request) -> None:
            for requirement in requirements:
                await requirement(request)

        async def handle_read(request: Request) -> Response:
            async with request.app.state.db.reader() as reader:
                request.state.reader = reader
                await authorize(request)
                return await handler(request)

        async def handle_in_transaction(request: Request) -> Response:
            async with unit_of_work(request.app.state.db) as session:
                request.state.session = session
                await authorize(request)
                response = await handler(request)
                await record_response(request, session, response)
            return response

        return handle_read if self.reads_only else handle_in_transaction


class OAuthTokenRoute(DatabaseRoute):
    """The token endpoint's route: RFC 6749 5.2 gives every 400 there an `error` code, so a
    body FastAPI cannot parse (a multipart body without its boundary, say) is answered as
    `invalid_request`, like any other malformed token request, not as a bare problem."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as exc:
                if exc.status_code != HTTPStatus.BAD_REQUEST:
                    raise
                detail = f"the body cannot be parsed: {exc.detail}"
                return oauth_error(request, HTTPStatus.BAD_REQUEST, "invalid_request", detail)

        return handle


class AreaRouter(APIRouter):
    """An area's router: a request whose path lies outside the router's prefix is turned away
    before any of its routes is tried. Routes are matched one by one, in the order routers
    were included (FastAPI 0.165: ~5 us a route, twice per request), so without this a route
    near the end of the table paid ~300 us to be found (bench/inventory.py, floor_stock)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if self.prefix:
            path, root = scope["path"], scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            if not path.startswith(self.prefix):
                return Match.NONE, {}
        return super().matches(scope)
