from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories.identity import PASSWORD, auth_headers, make_client, make_user

TOKEN = "/api/v1/auth/token"


async def _password_login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(
        TOKEN, data={"grant_type": "password", "username": email, "password": password}
    )


async def test_password_grant_gives_tokens_and_me_shows_permissions(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, roles=["accountant"], email="Anna@Example.com")
    response = await _password_login(client, "anna@example.COM", PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["refresh_token"]
    assert response.headers["cache-control"] == "no-store"
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["subject"] == f"user:{user.id}"
    assert "accounting:post" in me.json()["permissions"]
    assert "hr:salary:read" not in me.json()["permissions"]


async def test_client_credentials_grant_form_and_basic(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    shop, secret = await make_client(session, "webshop")
    form = await client.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": str(shop.id),
            "client_secret": secret,
        },
    )
    assert form.status_code == 200, form.text
    assert "refresh_token" not in form.json()
    basic = await client.post(
        TOKEN, data={"grant_type": "client_credentials"}, auth=(str(shop.id), secret)
    )
    assert basic.status_code == 200
    wrong = await client.post(
        TOKEN, data={"grant_type": "client_credentials"}, auth=(str(shop.id), secret + "x")
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"


async def test_an_unknown_grant_type_is_rfc_6749_unsupported_grant_type(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(TOKEN, data={"grant_type": "authorization_code", "code": "x"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    assert response.json()["instance"] == TOKEN


async def test_an_admin_can_change_a_clients_role(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    device, secret = await make_client(session, "reception_device")
    admin = await auth_headers(app, "admin")
    url = f"/api/v1/admin/clients/{device.id}"
    etag = (await client.get(url, headers=admin)).headers["etag"]
    changed = await client.patch(url, json={"role": "webshop"}, headers=admin | {"If-Match": etag})
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "webshop"
    user_role = await client.patch(url, json={"role": "admin"}, headers=admin)
    assert user_role.status_code == 422
    token = await client.post(
        TOKEN, data={"grant_type": "client_credentials"}, auth=(str(device.id), secret)
    )
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.json()["roles"] == ["webshop"]
