"""People and clients share one id space; a refresh token is only ever its own holder's."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories.identity import (
    auth_headers,
    bearer,
    current_principal,
    make_client,
    make_user,
    principal_for,
    refresh,
    sign_in,
)

USERS, CLIENTS = "/api/v1/admin/users", "/api/v1/admin/clients"


async def test_a_client_cannot_take_a_persons_id_nor_a_person_a_clients(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await auth_headers(app, "admin")
    person = await make_user(session)
    shop, _ = await make_client(session)
    await session.flush()
    as_client = await client.post(
        CLIENTS, json={"id": str(person.id), "name": "Twin shop", "role": "webshop"}, headers=admin
    )
    assert as_client.status_code == 409, as_client.text
    as_person = await client.post(
        USERS,
        json={
            "id": str(shop.id),
            "email": f"twin-{uuid.uuid4().hex[:6]}@example.com",
            "display_name": "Twin",
            "password": "a long enough password",
            "roles": ["employee"],
        },
        headers=admin,
    )
    assert as_person.status_code == 409, as_person.text


async def test_logout_never_revokes_another_holders_refresh_token(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session)
    await session.flush()
    tokens = await sign_in(client, user.email)
    # A token naming a client with the person's id (no such client can exist; the check must
    # not depend on that): it presents the person's refresh token.
    impostor = await current_principal(session, principal_for("webshop", user.id))
    response = await client.post(
        "/api/v1/auth/logout",
        json={"refresh_token": tokens["refresh_token"]},
        headers=bearer(app, impostor),
    )
    assert response.status_code == 401, response.text
    assert response.json()["detail"] == "the access token's holder does not exist"
    assert (await refresh(client, tokens["refresh_token"])).status_code == 200


async def test_no_redirect_points_at_a_host_the_caller_invented(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/auth/roles/", headers={"Host": "evil.example"})
    assert response.status_code == 404
    assert "location" not in response.headers
    assert response.headers["content-type"] == "application/problem+json"
