"""Users, clients and access tokens for tests."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from pwdlib import PasswordHash
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Client, User, UserRole
from app.db.models import Principal as PrincipalRow
from app.domain.actor import Actor
from app.domain.identity import clients, users
from app.domain.identity.principal import Principal, PrincipalKind
from app.domain.identity.roles import ROLES, HolderKind, permissions_of

TEST_ACTOR = Actor("system:test")
PASSWORD = "correct horse battery staple"
_HASH = PasswordHash.recommended().hash(PASSWORD)


def principal_for(
    role: str, principal_id: uuid.UUID | None = None, generation: int = 1
) -> Principal:
    """A principal as a token describes it; no row is made (see `signed_in` for that)."""
    kind = PrincipalKind.client if ROLES[role].holder is HolderKind.client else PrincipalKind.user
    return Principal(
        kind, principal_id or uuid.uuid4(), frozenset({role}), permissions_of([role]), generation
    )


def bearer(app: FastAPI, principal: Principal) -> dict[str, str]:
    tokens = app.state.tokens
    token = tokens.issue(principal.subject, principal.roles, principal.token_generation).token
    return {"Authorization": f"Bearer {token}"}


async def make_principal(session: AsyncSession, role: str) -> Principal:
    """A real holder of `role` (a user, or a client for client roles), made without hashing a
    password, and the principal its tokens name."""
    principal = principal_for(role)
    session.add(PrincipalRow(id=principal.id, kind=principal.kind.value))
    await session.flush()
    tag = principal.id.hex[:12]
    if principal.is_client:
        session.add(Client(id=principal.id, name=f"client-{tag}", role=role, secret_hash=_HASH))
    else:
        session.add(
            User(
                id=principal.id,
                email=f"{role.replace('_', '.')}-{tag}@example.com",
                display_name="Erika Mustermann",
                password_hash=_HASH,
                role_rows=[UserRole(role=role)],
            )
        )
    await session.flush()
    return await current_principal(session, principal)


async def current_principal(session: AsyncSession, principal: Principal) -> Principal:
    """`principal` with its holder's current token generation."""
    generation = await session.scalar(
        select(PrincipalRow.token_generation).where(PrincipalRow.id == principal.id)
    )
    assert generation is not None
    return dataclasses.replace(principal, token_generation=generation)


async def signed_in(app: FastAPI, role: str) -> Principal:
    """A new holder of `role`, stored where `app` reads (committed in its own session)."""
    async with app.state.db.sessions() as session:
        principal = await make_principal(session, role)
        await session.commit()
    return principal


async def auth_headers(app: FastAPI, role: str) -> dict[str, str]:
    """Headers of a new, real caller holding `role`."""
    return bearer(app, await signed_in(app, role))


async def make_user(
    session: AsyncSession,
    *,
    roles: list[str] | None = None,
    email: str | None = None,
    password: str = PASSWORD,
    is_active: bool = True,
) -> User:
    new = users.NewUser(
        email=email or f"user-{uuid.uuid4().hex[:8]}@example.com",
        display_name="Erika Mustermann",
        password=password,
        roles=roles if roles is not None else ["employee"],
        is_active=is_active,
    )
    return await users.create_user(session, TEST_ACTOR, new)


async def make_client(session: AsyncSession, role: str = "webshop") -> tuple[Client, str]:
    return await clients.create_client(
        session, TEST_ACTOR, name=f"client-{uuid.uuid4().hex[:8]}", role=role, client_id=None
    )


TOKEN_URL = "/api/v1/auth/token"


def new_user_body(**overrides: Any) -> dict[str, Any]:
    """A valid body for POST /api/v1/admin/users, with a fresh e-mail address."""
    body: dict[str, Any] = {
        "email": f"new-{uuid.uuid4().hex[:10]}@example.com",
        "display_name": "Max Mustermann",
        "password": "a long enough password",
        "roles": ["employee"],
    }
    return body | overrides


def with_key(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> dict[str, str]:
    """The token response of a successful password grant."""
    response = await client.post(
        TOKEN_URL, data={"grant_type": "password", "username": email, "password": password}
    )
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    assert body["access_token"]
    assert body["refresh_token"]
    return body


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(
        TOKEN_URL, data={"grant_type": "refresh_token", "refresh_token": refresh_token}
    )


def assert_invalid_grant(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["error"] == "invalid_grant"
    assert "access_token" not in response.json()
