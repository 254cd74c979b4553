"""Losing access takes effect at once: the access token already in hand stops working.

These run on real commits (`committed_app`), through the token endpoint, as an attacker would.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.db.models import User
from app.db.session import unit_of_work
from app.main import create_app
from tests.factories.identity import (
    PASSWORD,
    assert_invalid_grant,
    make_user,
    new_user_body,
    refresh,
    sign_in,
)

USERS = "/api/v1/admin/users"
ME = "/api/v1/auth/me"
NEW_PASSWORD = "a brand new password 123"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _admins(app: FastAPI) -> tuple[uuid.UUID, str, uuid.UUID, str]:
    """Two admins, each with an e-mail: (mallory, her e-mail, alice, her e-mail)."""
    async with unit_of_work(app.state.db) as session:
        mallory = await make_user(session, roles=["admin"], email=f"m-{uuid.uuid4().hex}@ex.com")
        alice = await make_user(session, roles=["admin"], email=f"a-{uuid.uuid4().hex}@ex.com")
    return mallory.id, mallory.email, alice.id, alice.email


async def _deactivate(client: httpx.AsyncClient, alice: str, mallory_id: uuid.UUID) -> None:
    response = await client.patch(
        f"{USERS}/{mallory_id}", json={"is_active": False}, headers=_bearer(alice)
    )
    assert response.status_code == 200, response.text


async def _demote(client: httpx.AsyncClient, alice: str, mallory_id: uuid.UUID) -> None:
    response = await client.patch(
        f"{USERS}/{mallory_id}", json={"roles": ["employee"]}, headers=_bearer(alice)
    )
    assert response.status_code == 200, response.text


async def _reset_password(client: httpx.AsyncClient, alice: str, mallory_id: uuid.UUID) -> None:
    response = await client.put(
        f"{USERS}/{mallory_id}/password", json={"password": NEW_PASSWORD}, headers=_bearer(alice)
    )
    assert response.status_code == 204, response.text


LossOfAccess = Callable[[httpx.AsyncClient, str, uuid.UUID], Awaitable[None]]
WAYS_TO_LOSE_ACCESS: dict[str, LossOfAccess] = {
    "deactivated": _deactivate,
    "demoted": _demote,
    "password reset": _reset_password,
}


async def _assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"


async def _attempt_self_repromotion(
    client: httpx.AsyncClient, token: str, mallory_id: uuid.UUID
) -> None:
    """What a demoted admin would try with the token in hand: every step must be refused."""
    own = f"{USERS}/{mallory_id}"
    headers = _bearer(token)
    await _assert_refused(await client.patch(own, json={"is_active": True}, headers=headers))
    await _assert_refused(await client.patch(own, json={"roles": ["admin"]}, headers=headers))
    await _assert_refused(
        await client.put(f"{own}/password", json={"password": "mallory's own 123"}, headers=headers)
    )
    accomplice = new_user_body(roles=["admin"])
    await _assert_refused(await client.post(USERS, json=accomplice, headers=headers))
    await _assert_refused(await client.get(ME, headers=headers))


@pytest.mark.parametrize("loss", list(WAYS_TO_LOSE_ACCESS))
async def test_a_revoked_admin_cannot_use_the_token_in_hand(
    committed_app: FastAPI, committed_client: httpx.AsyncClient, loss: str
) -> None:
    client = committed_client
    mallory_id, mallory_email, _, alice_email = await _admins(committed_app)
    mallory = await sign_in(client, mallory_email)
    alice = await sign_in(client, alice_email)
    assert (await client.get(ME, headers=_bearer(mallory["access_token"]))).status_code == 200

    await WAYS_TO_LOSE_ACCESS[loss](client, alice["access_token"], mallory_id)

    await _attempt_self_repromotion(client, mallory["access_token"], mallory_id)
    assert_invalid_grant(await refresh(client, mallory["refresh_token"]))
    async with committed_app.state.db.sessions() as session:
        admins = select(func.count()).select_from(User).where(User.email.like("new-%"))
        assert await session.scalar(admins) == 0, "an accomplice was created"
        stored = await session.get(User, mallory_id)
        assert stored is not None
        if loss == "deactivated":
            assert stored.is_active is False
    # Whoever revoked is unaffected.
    assert (await client.get(ME, headers=_bearer(alice["access_token"]))).status_code == 200


async def test_a_new_sign_in_after_demotion_carries_only_the_new_roles(
    committed_app: FastAPI, committed_client: httpx.AsyncClient
) -> None:
    client = committed_client
    mallory_id, mallory_email, _, alice_email = await _admins(committed_app)
    alice = await sign_in(client, alice_email)
    await _demote(client, alice["access_token"], mallory_id)
    mallory = await sign_in(client, mallory_email)
    me = await client.get(ME, headers=_bearer(mallory["access_token"]))
    assert me.status_code == 200
    assert me.json()["roles"] == ["employee"]
    patched = await client.patch(
        f"{USERS}/{mallory_id}", json={"roles": ["admin"]}, headers=_bearer(mallory["access_token"])
    )
    assert patched.status_code == 403


async def test_signing_out_everywhere_ends_every_token_of_the_caller(
    committed_app: FastAPI, committed_client: httpx.AsyncClient
) -> None:
    client = committed_client
    async with unit_of_work(committed_app.state.db) as session:
        user = await make_user(session, email=f"e-{uuid.uuid4().hex}@ex.com")
    laptop, phone = await sign_in(client, user.email), await sign_in(client, user.email)
    out = await client.post(
        "/api/v1/auth/logout/everywhere", headers=_bearer(phone["access_token"])
    )
    assert out.status_code == 204, out.text
    for device in (laptop, phone):
        await _assert_refused(await client.get(ME, headers=_bearer(device["access_token"])))
        assert_invalid_grant(await refresh(client, device["refresh_token"]))
    again = await sign_in(client, user.email, PASSWORD)
    assert (await client.get(ME, headers=_bearer(again["access_token"]))).status_code == 200


async def test_a_client_secret_rotation_ends_the_clients_tokens(
    committed_app: FastAPI, committed_client: httpx.AsyncClient
) -> None:
    client = committed_client
    _, _, _, alice_email = await _admins(committed_app)
    alice = _bearer((await sign_in(client, alice_email))["access_token"])
    created = await client.post(
        "/api/v1/admin/clients",
        json={"name": f"shop {uuid.uuid4().hex}", "role": "webshop"},
        headers=alice,
    )
    assert created.status_code == 201, created.text
    shop = created.json()
    token = await client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": shop["id"],
            "client_secret": shop["client_secret"],
        },
    )
    shop_token = token.json()["access_token"]
    assert (await client.get(ME, headers=_bearer(shop_token))).status_code == 200
    rotated = await client.post(f"/api/v1/admin/clients/{shop['id']}/secret", headers=alice)
    assert rotated.status_code == 200, rotated.text
    await _assert_refused(await client.get(ME, headers=_bearer(shop_token)))


# --- several processes ------------------------------------------------------------------------


@pytest.fixture
async def two_processes(committed_app: FastAPI) -> AsyncIterator[tuple[FastAPI, FastAPI]]:
    """Two instances of the API on one database, each with its own caches and its own
    revocation listener running (as two uvicorn workers or two hosts would have)."""
    async with AsyncExitStack() as stack:
        apps = []
        for _ in range(2):
            app = create_app(committed_app.state.settings)
            await stack.enter_async_context(app.router.lifespan_context(app))
            stack.push_async_callback(app.state.db.dispose)
            apps.append(app)
        for app in apps:  # listening before the test starts
            for _ in range(200):
                if app.state.token_generations.current(uuid.uuid4()) is not None or (
                    app.state.token_generations._trusted
                ):
                    break
                await asyncio.sleep(0.01)
        yield apps[0], apps[1]


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_a_revocation_in_one_process_holds_in_the_other(
    two_processes: tuple[FastAPI, FastAPI],
) -> None:
    first, second = two_processes
    mallory_id, mallory_email, _, alice_email = await _admins(first)
    async with _client(first) as one, _client(second) as two:
        mallory = await sign_in(one, mallory_email)
        token = _bearer(mallory["access_token"])
        # The second process has seen the token and vouches for it from its cache.
        assert (await two.get(ME, headers=token)).status_code == 200
        assert second.state.token_generations.current(f"user:{mallory_id}") is not None

        alice = await sign_in(one, alice_email)
        await _deactivate(one, alice["access_token"], mallory_id)

        # A change is refused at once, whatever the other process has heard so far.
        reactivate = await two.patch(
            f"{USERS}/{mallory_id}", json={"is_active": True}, headers=token
        )
        await _assert_refused(reactivate)
        # A read is refused as soon as the notification arrives (milliseconds).
        for _ in range(200):
            response = await two.get(ME, headers=token)
            if response.status_code == 401:
                break
            await asyncio.sleep(0.01)
        await _assert_refused(response)
