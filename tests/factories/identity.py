"""Users, clients and access tokens for tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Client, User
from app.domain.actor import Actor
from app.domain.identity import clients, users
from app.domain.identity.principal import Principal, PrincipalKind
from app.domain.identity.roles import ROLES, HolderKind, permissions_of

TEST_ACTOR = Actor("system:test")
PASSWORD = "correct horse battery staple"


def principal_for(role: str, principal_id: uuid.UUID | None = None) -> Principal:
    kind = PrincipalKind.client if ROLES[role].holder is HolderKind.client else PrincipalKind.user
    return Principal(kind, principal_id or uuid.uuid4(), frozenset({role}), permissions_of([role]))


def bearer(app: FastAPI, principal: Principal) -> dict[str, str]:
    token = app.state.tokens.issue(principal.subject, principal.roles).token
    return {"Authorization": f"Bearer {token}"}


def auth_headers(app: FastAPI, role: str) -> dict[str, str]:
    """Headers of a signed-in caller holding `role` (tokens carry roles; no row needed)."""
    return bearer(app, principal_for(role))


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
