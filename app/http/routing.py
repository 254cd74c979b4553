"""The route class that owns each request's transaction.

FastAPI's post-response cleanup of `yield` dependencies would commit after the client already
saw 200; here the commit happens before the response leaves, so a failing commit becomes an
error response. The idempotency record of a request is written in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from app.db.session import unit_of_work
from app.http.idempotency import record_response


class TransactionalRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle_in_transaction(request: Request) -> Response:
            async with unit_of_work(request.app.state.db) as session:
                request.state.session = session
                response = await handler(request)
                await record_response(request, session, response)
            return response

        return handle_in_transaction
