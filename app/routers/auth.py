"""Tokens (OAuth2 password, client_credentials, refresh_token), the caller, the role matrix."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from urllib.parse import unquote

from fastapi import Form, Header, Request, Response, status
from fastapi.responses import JSONResponse

from app.domain.identity import authentication as auth
from app.domain.identity.authentication import SignedIn
from app.domain.identity.clients import get_client
from app.domain.identity.principal import Principal
from app.domain.identity.revocation import revoke_all_tokens
from app.domain.identity.roles import PERMISSIONS, ROLES
from app.domain.identity.users import get_user
from app.http.dependencies import (
    CurrentPrincipal,
    LoginPolicyDep,
    ReaderDep,
    SessionDep,
    authenticated,
    get_token_service,
)
from app.http.problems import oauth_error, problem_responses
from app.http.routing import AreaRouter, DatabaseRoute, OAuthTokenRoute
from app.schemas.identity import (
    LogoutRequest,
    Me,
    PermissionRead,
    RoleMatrix,
    RoleRead,
    TokenResponse,
)
from app.schemas.problem import TokenProblem

router = AreaRouter(prefix="/api/v1/auth", tags=["auth"], route_class=DatabaseRoute)

GRANT_TYPES = ("password", "client_credentials", "refresh_token")
FormText = Annotated[str | None, Form(max_length=1024)]
# Looked up in the database, whose text cannot hold a NUL.
FormUsername = Annotated[str | None, Form(max_length=1024, pattern=r"^[^\x00]*$")]
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """RFC 6749 2.3.1: client_id and secret may come as HTTP Basic (form-urlencoded parts)."""
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if sep else None


def _token_response(request: Request, signed_in: SignedIn) -> JSONResponse:
    principal = signed_in.principal
    issued = get_token_service(request).issue(
        principal.subject, principal.roles, principal.token_generation
    )
    body = TokenResponse(
        access_token=issued.token,
        expires_in=issued.expires_in,
        refresh_token=signed_in.refresh_token,
    )
    return JSONResponse(body.model_dump(exclude_none=True), headers=_NO_STORE)


async def auth_create_token(
    request: Request,
    session: SessionDep,
    policy: LoginPolicyDep,
    grant_type: Annotated[str, Form(max_length=64, json_schema_extra={"enum": list(GRANT_TYPES)})],
    username: FormUsername = None,
    password: FormText = None,
    client_id: FormText = None,
    client_secret: FormText = None,
    refresh_token: FormText = None,
    scope: FormText = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """OAuth2 token endpoint (form-encoded). People use `password` (and get a refresh token),
    machines use `client_credentials`. Failed attempts are counted and rate limited."""
    source = request.client.host if request.client else "unknown"
    if grant_type == "password":
        if not username or not password:
            return oauth_error(
                request, 400, "invalid_request", "username and password are required"
            )
        signed_in = await auth.sign_in_user(
            session, policy, email=username, password=password, source=source
        )
        if signed_in is None:
            return oauth_error(
                request, 400, "invalid_grant", "the e-mail address or password is wrong"
            )
    elif grant_type == "client_credentials":
        basic = _basic_credentials(authorization)
        cid, secret = basic or (client_id, client_secret)
        if not cid or not secret:
            return oauth_error(
                request, 401, "invalid_client", "client_id and client_secret are required"
            )
        signed_in = await auth.sign_in_client(
            session, policy, client_id=cid, secret=secret, source=source
        )
        if signed_in is None:
            return oauth_error(request, 401, "invalid_client", "the client credentials are wrong")
    elif grant_type == "refresh_token":
        if not refresh_token:
            return oauth_error(request, 400, "invalid_request", "refresh_token is required")
        signed_in = await auth.rotate_refresh_token(session, policy, refresh_token)
        if signed_in is None:
            return oauth_error(
                request, 400, "invalid_grant", "the refresh token is invalid or spent"
            )
    else:
        return oauth_error(
            request, 400, "unsupported_grant_type", f"grant_type must be one of {GRANT_TYPES}"
        )
    return _token_response(request, signed_in)


router.add_api_route(
    "/token",
    auth_create_token,
    methods=["POST"],
    route_class_override=OAuthTokenRoute,
    operation_id="auth_create_token",
    response_model=TokenResponse,
    responses=problem_responses(400, 401, model=TokenProblem) | problem_responses(422, 429),
)


@router.post(
    "/logout",
    operation_id="auth_revoke_refresh_token",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[authenticated()],
)
async def auth_revoke_refresh_token(
    body: LogoutRequest, session: SessionDep, principal: CurrentPrincipal
) -> None:
    """Ends a signed-in session: its refresh token and every token rotated from it."""
    await auth.sign_out(session, principal, body.refresh_token)


async def _display_name(reader: ReaderDep, principal: Principal) -> str:
    if principal.is_client:
        name: str = (await get_client(reader, principal.id))["name"]
    else:
        name = (await get_user(reader, principal.id))["display_name"]
    return name


@router.post(
    "/logout/everywhere",
    operation_id="auth_revoke_all_sessions",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[authenticated()],
)
async def auth_revoke_all_sessions(session: SessionDep, principal: CurrentPrincipal) -> None:
    """Signs the caller out everywhere: every refresh token and every access token of theirs,
    including the one this request was sent with, stops working at once."""
    await revoke_all_tokens(session, principal.id)


@router.get(
    "/me",
    operation_id="auth_get_me",
    response_model=Me,
    dependencies=[authenticated()],
    responses=problem_responses(404),
)
async def auth_get_me(reader: ReaderDep, principal: CurrentPrincipal) -> Me:
    """The caller, its roles and the permissions they grant."""
    return Me(
        subject=principal.subject,
        kind=principal.kind.value,
        id=principal.id,
        name=await _display_name(reader, principal),
        roles=sorted(principal.roles),
        permissions=sorted(principal.permissions),
    )


@router.get(
    "/roles",
    operation_id="auth_list_roles",
    response_model=RoleMatrix,
    dependencies=[authenticated()],
)
async def auth_list_roles() -> RoleMatrix:
    """The built-in roles and the permissions each one grants."""
    return role_matrix()


def role_matrix() -> RoleMatrix:
    return RoleMatrix(
        roles=[
            RoleRead(
                name=r.name,
                office=r.office,
                holder=r.holder,
                description=r.description,
                permissions=sorted(r.permissions),
            )
            for r in ROLES.values()
        ],
        permissions=[
            PermissionRead(name=p.name, office=p.office, description=p.description)
            for p in PERMISSIONS.values()
        ],
    )
