"""Dependencies every router uses: the session, the caller, permission checks, list params."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlowPassword, OAuthFlows
from fastapi.security import OAuth2
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.config import Settings
from app.db.keyset import CURSOR_PATTERN, MAX_PAGE_SIZE, PageRequest
from app.db.keyset import DEFAULT_PAGE_SIZE as DEFAULT_PAGE_SIZE  # for routes with a limit
from app.domain.actor import Actor
from app.domain.errors import AuthenticationFailed, PermissionDenied
from app.domain.identity.authentication import LoginPolicy
from app.domain.identity.principal import Principal, authenticate
from app.domain.identity.revocation import GenerationCache, confirm_for_read, confirm_for_write
from app.http.idempotency import IdempotencyKeyHeader, claim_idempotency_key
from app.http.request_context import current_request_id
from app.schemas.common import Instant
from app.security.tokens import TokenService

TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 (a path, not a secret)

# Documented in the contract (app/http/openapi.py adds it to every route that requires a
# permission or a sign-in), but not a dependency: reading one header directly spares every
# authenticated request a level of FastAPI's dependency solving.
OAUTH2_SCHEME_NAME = "OAuth2"
OAUTH2_SCHEME = OAuth2(
    flows=OAuthFlows(
        password=OAuthFlowPassword(tokenUrl=TOKEN_URL),
        clientCredentials=OAuthFlowClientCredentials(tokenUrl=TOKEN_URL),
    ),
    scheme_name=OAUTH2_SCHEME_NAME,
    description="Bearer access tokens from the token endpoint (password or client_credentials).",
    auto_error=False,
)


async def get_session(request: Request) -> AsyncSession:
    """The session of a request that changes something; its transaction is owned by
    app.http.routing.DatabaseRoute.

    Dependencies here are `async def` on purpose: FastAPI runs plain `def` dependencies in its
    threadpool, a thread hop per request for nothing.
    """
    session: AsyncSession | None = getattr(request.state, "session", None)
    if session is None:
        raise RuntimeError("a read-only (GET) route asked for a session: use ReaderDep")
    return session


async def get_reader(request: Request) -> AsyncConnection:
    """The connection of a request that only reads (no transaction)."""
    reader: AsyncConnection | None = getattr(request.state, "reader", None)
    if reader is None:
        raise RuntimeError("a route that changes something asked for a reader: use SessionDep")
    return reader


SessionDep = Annotated[AsyncSession, Depends(get_session)]
ReaderDep = Annotated[AsyncConnection, Depends(get_reader)]


def get_token_service(request: Request) -> TokenService:
    service: TokenService = request.app.state.tokens
    return service


async def get_principal(request: Request) -> Principal:
    """The caller, authenticated once per request (the result is kept on the request)."""
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    authorization = request.headers.get("authorization")
    scheme, token = get_authorization_scheme_param(authorization)
    if not authorization or scheme.lower() != "bearer" or not token:
        raise AuthenticationFailed("a bearer access token is required", error=None)
    principal = authenticate(get_token_service(request), token)
    session: AsyncSession | None = getattr(request.state, "session", None)
    if session is not None:
        await confirm_for_write(session, principal)
    else:
        cache: GenerationCache = request.app.state.token_generations
        await confirm_for_read(await get_reader(request), cache, principal)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


class PermissionRequirement:
    """Dependency that admits a caller holding any one of `permissions` (none: any caller).

    Routes declare these through `require()`/`authenticated()`; the route-table test finds
    them in each route's dependency tree. Several permissions serve one route to both offices
    (sales staff and the auditor both read orders) without a back-office permission ever being
    handed to a front-office role.
    """

    def __init__(self, *permissions: str, clients_only: str | None = None) -> None:
        self.permissions = permissions
        # Set for routes only integration clients can use (their own ids for things); says
        # why, for the person who calls it anyway.
        self.clients_only = clients_only

    async def __call__(self, request: Request) -> Principal:
        principal = await get_principal(request)
        if self.permissions and not any(principal.has(p) for p in self.permissions):
            needed = " or ".join(repr(p) for p in self.permissions)
            raise PermissionDenied(f"this needs the permission {needed}")
        if self.clients_only and not principal.is_client:
            raise PermissionDenied(f"only integration clients may call this: {self.clients_only}")
        return principal

    def __repr__(self) -> str:
        suffix = ", clients only" if self.clients_only else ""
        return f"PermissionRequirement{self.permissions!r}{suffix}"


def require(permission: str, *alternatives: str) -> Any:
    """Admits callers holding `permission` or any of the `alternatives`."""
    return Depends(PermissionRequirement(permission, *alternatives))


def require_client(permission: str, *alternatives: str, why: str) -> Any:
    """Admits integration clients holding `permission` or any of the `alternatives`; people
    get 403 saying `why` the route is not for them."""
    return Depends(PermissionRequirement(permission, *alternatives, clients_only=why))


def authenticated() -> Any:
    """For routes every signed-in caller may use (their own profile, logout)."""
    return Depends(PermissionRequirement())


PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size")]


async def get_page_request(
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None,
        Query(pattern=CURSOR_PATTERN, description="`next_cursor` of the previous page"),
    ] = None,
    updated_since: Annotated[
        Instant | None,
        Query(description="Only items changed at or after this instant (RFC 3339 with offset)"),
    ] = None,
) -> PageRequest:
    return PageRequest(limit=limit, cursor=cursor, updated_since=updated_since)


PageParams = Annotated[PageRequest, Depends(get_page_request)]


async def idempotent(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    key: IdempotencyKeyHeader = None,
) -> None:
    await claim_idempotency_key(request, session, principal, key)


Idempotent = Depends(idempotent)


def actor_for(principal: Principal) -> Actor:
    """The audit log's view of the caller, with this request's id."""
    return Actor(principal.subject, current_request_id())


async def login_policy(request: Request) -> LoginPolicy:
    settings: Settings = request.app.state.settings
    return LoginPolicy(
        max_failures=settings.login_max_failures,
        window=timedelta(seconds=settings.login_window_seconds),
        refresh_ttl=timedelta(days=settings.refresh_token_days),
        pseudonym_key=request.app.state.pseudonym_key,
    )


LoginPolicyDep = Annotated[LoginPolicy, Depends(login_policy)]
