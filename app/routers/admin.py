"""User and integration-client administration (permission `users:admin`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path, Response, status

from app.domain.identity import clients, users
from app.domain.identity.principal import Principal
from app.http.conditional import IfMatchHeader, parse_if_match, version_etag
from app.http.dependencies import (
    Idempotent,
    PageParams,
    ReaderDep,
    SessionDep,
    actor_for,
    require,
)
from app.http.problems import problem_responses
from app.http.routing import AreaRouter, DatabaseRoute
from app.schemas.common import Page
from app.schemas.identity import (
    ClientCreate,
    ClientRead,
    ClientUpdate,
    ClientWithSecret,
    PasswordSet,
    UserCreate,
    UserRead,
    UserUpdate,
)

# Checked for the whole router, so it runs before any route-level dependency (Idempotent would
# otherwise answer a caller without the permission with 400 for a missing key, not 403).
_USERS_ADMIN = require("users:admin")

router = AreaRouter(
    prefix="/api/v1/admin",
    tags=["admin"],
    route_class=DatabaseRoute,
    dependencies=[_USERS_ADMIN],
)

Admin = Annotated[Principal, _USERS_ADMIN]
UserId = Annotated[uuid.UUID, Path(description="The user's id")]
ClientId = Annotated[uuid.UUID, Path(description="The client's id")]


def _with_secret(client: ClientRead, secret: str) -> ClientWithSecret:
    return ClientWithSecret(**client.model_dump(), client_secret=secret)


def _with_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = version_etag(version)


@router.get("/users", operation_id="admin_list_users", response_model=Page[UserRead])
async def admin_list_users(reader: ReaderDep, page: PageParams) -> Page[UserRead]:
    """All users, oldest change first; pass `updated_since` to mirror changes."""
    rows, next_cursor = await users.list_users(reader, page)
    return Page(items=[UserRead.model_validate(u) for u in rows], next_cursor=next_cursor)


@router.post(
    "/users",
    operation_id="admin_create_user",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    dependencies=[Idempotent],
    responses=problem_responses(409, 422),
)
async def admin_create_user(
    body: UserCreate, session: SessionDep, admin: Admin, response: Response
) -> UserRead:
    new = users.NewUser(
        id=body.id,
        email=str(body.email),
        display_name=body.display_name,
        password=body.password,
        roles=body.roles,
        is_active=body.is_active,
    )
    user = await users.create_user(session, actor_for(admin), new)
    response.headers["Location"] = f"{router.prefix}/users/{user.id}"
    _with_etag(response, user.version)
    return UserRead.model_validate(user)


@router.get(
    "/users/{user_id}",
    operation_id="admin_get_user",
    response_model=UserRead,
    responses=problem_responses(404),
)
async def admin_get_user(user_id: UserId, reader: ReaderDep, response: Response) -> UserRead:
    user = await users.get_user(reader, user_id)
    _with_etag(response, user["version"])
    return UserRead.model_validate(user)


@router.patch(
    "/users/{user_id}",
    operation_id="admin_update_user",
    response_model=UserRead,
    responses=problem_responses(400, 404, 412, 422),
)
async def admin_update_user(
    user_id: UserId,
    body: UserUpdate,
    session: SessionDep,
    admin: Admin,
    response: Response,
    if_match: IfMatchHeader = None,
) -> UserRead:
    """Change name, active flag or roles. Deactivating ends the user's sessions."""
    changes = users.UserChanges(**body.model_dump(exclude_unset=True, exclude_none=True))
    user = await users.update_user(
        session, actor_for(admin), user_id, parse_if_match(if_match), changes
    )
    _with_etag(response, user.version)
    return UserRead.model_validate(user)


@router.put(
    "/users/{user_id}/password",
    operation_id="admin_set_user_password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404, 422),
)
async def admin_set_user_password(
    user_id: UserId, body: PasswordSet, session: SessionDep, admin: Admin
) -> None:
    """Set a new password; the user's existing sessions end."""
    await users.set_password(session, actor_for(admin), user_id, body.password)


@router.get("/clients", operation_id="admin_list_clients", response_model=Page[ClientRead])
async def admin_list_clients(reader: ReaderDep, page: PageParams) -> Page[ClientRead]:
    rows, next_cursor = await clients.list_clients(reader, page)
    return Page(items=[ClientRead.model_validate(c) for c in rows], next_cursor=next_cursor)


@router.post(
    "/clients",
    operation_id="admin_create_client",
    status_code=status.HTTP_201_CREATED,
    response_model=ClientWithSecret,
    dependencies=[Idempotent],
    responses=problem_responses(409, 422),
)
async def admin_create_client(
    body: ClientCreate, session: SessionDep, admin: Admin, response: Response
) -> ClientWithSecret:
    """Register a machine caller. The response holds its secret, shown this once."""
    client, secret = await clients.create_client(
        session, actor_for(admin), name=body.name, role=body.role, client_id=body.id
    )
    response.headers["Location"] = f"{router.prefix}/clients/{client.id}"
    response.headers["Cache-Control"] = "no-store"
    _with_etag(response, client.version)
    return _with_secret(ClientRead.model_validate(client), secret)


@router.get(
    "/clients/{client_id}",
    operation_id="admin_get_client",
    response_model=ClientRead,
    responses=problem_responses(404),
)
async def admin_get_client(
    client_id: ClientId, reader: ReaderDep, response: Response
) -> ClientRead:
    client = await clients.get_client(reader, client_id)
    _with_etag(response, client["version"])
    return ClientRead.model_validate(client)


@router.patch(
    "/clients/{client_id}",
    operation_id="admin_update_client",
    response_model=ClientRead,
    responses=problem_responses(400, 404, 409, 412, 422),
)
async def admin_update_client(
    client_id: ClientId,
    body: ClientUpdate,
    session: SessionDep,
    admin: Admin,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ClientRead:
    changes = clients.ClientChanges(**body.model_dump(exclude_unset=True, exclude_none=True))
    client = await clients.update_client(
        session, actor_for(admin), client_id, parse_if_match(if_match), changes
    )
    _with_etag(response, client.version)
    return ClientRead.model_validate(client)


@router.post(
    "/clients/{client_id}/secret",
    operation_id="admin_rotate_client_secret",
    response_model=ClientWithSecret,
    responses=problem_responses(400, 404, 412),
)
async def admin_rotate_client_secret(
    client_id: ClientId,
    session: SessionDep,
    admin: Admin,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ClientWithSecret:
    """Issue a new secret (shown once); the old one stops working immediately."""
    client, secret = await clients.rotate_client_secret(
        session, actor_for(admin), client_id, parse_if_match(if_match)
    )
    response.headers["Cache-Control"] = "no-store"
    _with_etag(response, client.version)
    return _with_secret(ClientRead.model_validate(client), secret)
