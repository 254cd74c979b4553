"""The one place where errors become RFC 9457 problem responses."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.db.keyset import InvalidCursor
from app.domain import errors as domain
from app.http.request_context import current_request_id
from app.schemas.problem import Problem, TokenErrorCode, ValidationProblem

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:backoffice:problem:"

_DOMAIN_STATUS: dict[type[domain.DomainError], HTTPStatus] = {
    domain.BadRequest: HTTPStatus.BAD_REQUEST,
    domain.AuthenticationFailed: HTTPStatus.UNAUTHORIZED,
    domain.PermissionDenied: HTTPStatus.FORBIDDEN,
    domain.NotFound: HTTPStatus.NOT_FOUND,
    domain.Conflict: HTTPStatus.CONFLICT,
    domain.PreconditionFailed: HTTPStatus.PRECONDITION_FAILED,
    domain.RuleViolation: HTTPStatus.UNPROCESSABLE_ENTITY,
    domain.InvalidInput: HTTPStatus.UNPROCESSABLE_ENTITY,
    domain.RateLimited: HTTPStatus.TOO_MANY_REQUESTS,
    domain.Unavailable: HTTPStatus.SERVICE_UNAVAILABLE,
}

# SQLSTATEs of bad data the database refused: constraint violations that reach a commit, and
# text it cannot store.
_CONSTRAINT_STATUS = {
    "23505": (HTTPStatus.CONFLICT, "conflicts with a stored record"),
    "23P01": (HTTPStatus.CONFLICT, "conflicts with a stored record"),
    "23503": (HTTPStatus.CONFLICT, "refers to a missing record or is still referenced"),
    "23514": (HTTPStatus.UNPROCESSABLE_ENTITY, "breaks a rule the database enforces"),
    "23502": (HTTPStatus.UNPROCESSABLE_ENTITY, "misses a required value"),
    # A number too large for its column (an order total beyond NUMERIC(18, 2), say).
    "22003": (HTTPStatus.UNPROCESSABLE_ENTITY, "holds a number too large to store"),
    # Text the database cannot store (a NUL character): bad input, not a server fault.
    "22021": (HTTPStatus.UNPROCESSABLE_ENTITY, "holds a character the database cannot store"),
    "22P05": (HTTPStatus.UNPROCESSABLE_ENTITY, "holds a character the database cannot store"),
}

# Raised when the database cannot be reached; the pool pre-pings, so the app recovers by itself.
_UNAVAILABLE = (
    sa_exc.TimeoutError,
    sa_exc.InterfaceError,
    sa_exc.OperationalError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    ConnectionError,
    TimeoutError,
)


def problem(
    status: int,
    *,
    detail: str | None = None,
    slug: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + slug if slug else "about:blank",
        "title": phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    body.update(extensions)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _slug(status: HTTPStatus) -> str:
    return status.phrase.lower().replace(" ", "-").replace("'", "")


# The server is up but takes no more work for now: out of connections (53300), of memory or
# disk (class 53), shutting down / starting up (57P01-57P03), or too busy to finish in time:
# a statement past the statement timeout (57014), a lock not granted in time (55P03).
_UNAVAILABLE_STATES = frozenset(
    {"53000", "53100", "53200", "53300", "57P01", "57P02", "57P03", "57014", "55P03"}
)


def is_database_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, _UNAVAILABLE):
        return True
    state = _sqlstate(exc) if isinstance(exc, sa_exc.DBAPIError) else getattr(exc, "sqlstate", None)
    if state in _UNAVAILABLE_STATES:
        return True
    return isinstance(exc, OSError) and _raised_in_driver(exc)


def _raised_in_driver(exc: BaseException) -> bool:
    """asyncpg lets a failed connect's OSError through unwrapped: FileNotFoundError for the
    Unix socket of a stopped server, "Multiple exceptions" for unreachable hosts, DNS errors."""
    tb = exc.__traceback__
    while tb is not None:
        if str(tb.tb_frame.f_globals.get("__name__", "")).startswith("asyncpg."):
            return True
        tb = tb.tb_next
    return False


def _sqlstate(exc: sa_exc.DBAPIError) -> str | None:
    orig = exc.orig
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def _json_pointer(parts: Sequence[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for err in exc.errors():
        loc = list(err.get("loc", ()))
        where = loc[0] if loc else "body"
        message = str(err.get("msg", "invalid value"))
        if err.get("type") == "json_invalid":
            out.append({"detail": "the body is not valid JSON", "pointer": ""})
        elif where == "body":
            out.append({"detail": message, "pointer": _json_pointer(loc[1:])})
        else:
            out.append({"detail": message, "parameter": ".".join(str(p) for p in loc[1:])})
    return out


def _allowed_methods(request: Request) -> str:
    """Every method the path supports. Starlette's 405 names only the first route it matched,
    so `GET /users/{id}` would hide `PATCH /users/{id}` (RFC 9110 15.5.6 wants all of them)."""
    path = request.scope["path"]
    root_path = request.scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path) and route.methods:
            methods |= route.methods
    return ", ".join(sorted(methods))


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = HTTPStatus(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != status.phrase else None
    if status is HTTPStatus.NOT_FOUND and detail is None:
        detail = "no such resource"
    headers = dict(exc.headers or {})
    if status is HTTPStatus.METHOD_NOT_ALLOWED and (allowed := _allowed_methods(request)):
        headers = {k: v for k, v in headers.items() if k.lower() != "allow"} | {"Allow": allowed}
    return problem(status, detail=detail, instance=request.url.path, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        slug="validation-failed",
        detail="the request has invalid values",
        instance=request.url.path,
        errors=_field_errors(exc),
    )


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, domain.DomainError)
    status = next(s for cls, s in _DOMAIN_STATUS.items() if isinstance(exc, cls))
    headers: dict[str, str] = {}
    extensions: dict[str, Any] = exc.extensions()
    if isinstance(exc, domain.AuthenticationFailed):
        challenge = "Bearer"
        if exc.error:
            challenge += f' error="{exc.error}"'
        headers["WWW-Authenticate"] = challenge
    if isinstance(exc, domain.RateLimited):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    if isinstance(exc, domain.Unavailable):
        headers["Retry-After"] = str(request.app.state.settings.retry_after_seconds)
    if isinstance(exc, domain.InvalidInput):
        extensions["errors"] = [_field_error(e) for e in exc.errors]
    return problem(
        status,
        detail=exc.detail,
        slug=_slug(status),
        instance=request.url.path,
        headers=headers,
        **extensions,
    )


async def _invalid_cursor(request: Request, exc: Exception) -> JSONResponse:
    return problem(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        slug="validation-failed",
        detail="the cursor is not one this API handed out",
        instance=request.url.path,
        errors=[{"detail": "not a valid cursor", "parameter": "cursor"}],
    )


def _field_error(error: domain.FieldError) -> dict[str, str]:
    out = {"detail": error.detail, "pointer": error.pointer, "parameter": error.parameter}
    return {k: v for k, v in out.items() if v is not None}


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, StaleDataError):
        # A concurrent update won the race between our version check and our UPDATE.
        return problem(
            HTTPStatus.PRECONDITION_FAILED,
            slug="precondition-failed",
            detail="the resource was changed concurrently; fetch it again and retry",
            instance=request.url.path,
        )
    if is_database_unavailable(exc):
        log.warning("database unavailable: %s", type(exc).__name__)
        retry_after = request.app.state.settings.retry_after_seconds
        return problem(
            HTTPStatus.SERVICE_UNAVAILABLE,
            slug="database-unavailable",
            detail="the database is not reachable; try again shortly",
            instance=request.url.path,
            headers={"Retry-After": str(retry_after)},
        )
    if isinstance(exc, sa_exc.DBAPIError) and (state := _sqlstate(exc)) in _CONSTRAINT_STATUS:
        status, detail = _CONSTRAINT_STATUS[state]
        return problem(
            status, slug=_slug(status), detail=f"the request {detail}", instance=request.url.path
        )
    return await unexpected_error_response(request, exc)


async def unexpected_error_response(request: Request, exc: Exception) -> JSONResponse:
    if is_database_unavailable(exc):
        return await _database_error(request, exc)
    log.error("unhandled error", exc_info=exc)
    return problem(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        detail="an unexpected error occurred; quote the request id when reporting it",
        instance=request.url.path,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(domain.DomainError, _domain_error)
    app.add_exception_handler(InvalidCursor, _invalid_cursor)
    app.add_exception_handler(sa_exc.SQLAlchemyError, _database_error)
    for exc_type in (asyncpg.PostgresError, asyncpg.InterfaceError, ConnectionError, TimeoutError):
        app.add_exception_handler(exc_type, _database_error)
    app.add_exception_handler(Exception, unexpected_error_response)


def problem_responses(
    *statuses: int, model: type[Problem] | None = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the problems a route can return (see app/openapi.py);
    `model` names a more specific problem schema than the default for those statuses."""
    return {
        status: {
            "model": model or (ValidationProblem if status == 422 else Problem),
            "description": HTTPStatus(status).phrase,
        }
        for status in statuses
    }


def oauth_error(
    request: Request, status: int, error: TokenErrorCode, description: str
) -> JSONResponse:
    """A token-endpoint error: a problem document that also carries RFC 6749's `error` fields.

    Returned (not raised) by the token route, so counted failures are committed. Documented
    as `TokenProblem`, whose `error` enum lists every code passed here.
    """
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="backoffice"'
    return problem(
        status,
        slug=error.replace("_", "-"),
        detail=description,
        instance=request.url.path,
        headers=headers,
        error=error,
        error_description=description,
    )
