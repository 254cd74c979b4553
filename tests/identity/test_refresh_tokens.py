"""Refresh tokens: issued at sign-in, single use, rotated, revoked by reuse, logout and admin."""

from __future__ import annotations

import base64
import hashlib
import json

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import User
from tests.factories.identity import (
    PASSWORD,
    assert_invalid_grant,
    auth_headers,
    make_user,
    refresh,
    sign_in,
)

TOKEN = "/api/v1/auth/token"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _user(session: AsyncSession) -> User:
    user = await make_user(session, roles=["employee"])
    await session.flush()
    return user


async def test_password_grant_gives_a_refresh_token_that_rotates(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await _user(session)
    first = await sign_in(client, user.email)

    rotated = await refresh(client, first["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    assert rotated.headers["cache-control"] == "no-store"
    second = rotated.json()
    assert second["token_type"] == "bearer"
    assert second["refresh_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"]
    assert second["access_token"] != first["access_token"]
    me = await client.get(ME, headers=_bearer(second["access_token"]))
    assert me.status_code == 200
    assert me.json()["subject"] == f"user:{user.id}"

    # The new one rotates again; only hashes are stored, never the token itself.
    third = await refresh(client, second["refresh_token"])
    assert third.status_code == 200, third.text
    stored = (
        await session.execute(
            text("SELECT token_hash FROM auth_refresh_token WHERE user_id = :u"), {"u": user.id}
        )
    ).scalars()
    hashes = set(stored)
    assert len(hashes) == 3
    for token in (first["refresh_token"], second["refresh_token"]):
        assert token not in hashes
        assert hashlib.sha256(token.encode()).hexdigest() in hashes


async def _age_spent_tokens(session: AsyncSession, user: User) -> None:
    """Move the uses of the user's spent tokens out of the reuse grace period."""
    await session.execute(
        text(
            "UPDATE auth_refresh_token SET used_at = used_at - interval '1 minute' "
            "WHERE user_id = :u AND used_at IS NOT NULL"
        ),
        {"u": user.id},
    )


async def test_reusing_a_spent_refresh_token_revokes_the_whole_family(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await _user(session)
    first = await sign_in(client, user.email)
    second = (await refresh(client, first["refresh_token"])).json()
    third = (await refresh(client, second["refresh_token"])).json()
    await _age_spent_tokens(session, user)

    assert_invalid_grant(await refresh(client, first["refresh_token"]))
    # The replay was refused with an error, yet the revocation it caused was kept:
    # neither the newest token of the family nor any earlier one works any more.
    assert_invalid_grant(await refresh(client, third["refresh_token"]))
    assert_invalid_grant(await refresh(client, second["refresh_token"]))
    revoked = await session.scalar(
        text(
            "SELECT count(*) FROM auth_refresh_token WHERE user_id = :u AND revoked_at IS NOT NULL"
        ),
        {"u": user.id},
    )
    assert revoked == 3


async def test_reuse_revokes_only_its_own_family(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await _user(session)
    laptop = await sign_in(client, user.email)
    phone = await sign_in(client, user.email)
    await refresh(client, laptop["refresh_token"])
    await _age_spent_tokens(session, user)
    assert_invalid_grant(await refresh(client, laptop["refresh_token"]))
    assert (await refresh(client, phone["refresh_token"])).status_code == 200


async def test_unknown_or_missing_refresh_token_is_refused(client: httpx.AsyncClient) -> None:
    assert_invalid_grant(await refresh(client, "no-such-token"))
    missing = await client.post(TOKEN, data={"grant_type": "refresh_token"})
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"


async def test_logout_makes_the_refresh_token_unusable(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await _user(session)
    first = await sign_in(client, user.email)
    second = (await refresh(client, first["refresh_token"])).json()

    response = await client.post(
        LOGOUT,
        headers=_bearer(second["access_token"]),
        json={"refresh_token": second["refresh_token"]},
    )
    assert response.status_code == 204, response.text
    assert_invalid_grant(await refresh(client, second["refresh_token"]))


async def test_logout_needs_a_signed_in_caller_and_cannot_end_someone_elses_session(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await _user(session)
    bob = await _user(session)
    alices = await sign_in(client, alice.email)
    bobs = await sign_in(client, bob.email)

    anonymous = await client.post(LOGOUT, json={"refresh_token": alices["refresh_token"]})
    assert anonymous.status_code == 401
    by_bob = await client.post(
        LOGOUT,
        headers=_bearer(bobs["access_token"]),
        json={"refresh_token": alices["refresh_token"]},
    )
    assert by_bob.status_code == 204
    assert (await refresh(client, alices["refresh_token"])).status_code == 200


async def test_deactivated_users_refresh_token_fails(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await _user(session)
    tokens = await sign_in(client, user.email)

    response = await client.patch(
        f"/api/v1/admin/users/{user.id}",
        headers=await auth_headers(app, "admin"),
        json={"is_active": False},
    )
    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False
    assert_invalid_grant(await refresh(client, tokens["refresh_token"]))
    # Nor can they sign in again.
    again = await client.post(
        TOKEN, data={"grant_type": "password", "username": user.email, "password": PASSWORD}
    )
    assert_invalid_grant(again)


async def test_refresh_token_fails_while_user_is_inactive_even_if_not_revoked(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await _user(session)
    tokens = await sign_in(client, user.email)
    await session.execute(
        text("UPDATE auth_user SET is_active = false WHERE id = :u"), {"u": user.id}
    )
    assert_invalid_grant(await refresh(client, tokens["refresh_token"]))


async def test_setting_a_new_password_revokes_refresh_tokens(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await _user(session)
    laptop = await sign_in(client, user.email)
    phone = await sign_in(client, user.email)
    new_password = "a brand new passphrase 42"

    response = await client.put(
        f"/api/v1/admin/users/{user.id}/password",
        headers=await auth_headers(app, "admin"),
        json={"password": new_password},
    )
    assert response.status_code == 204, response.text
    assert_invalid_grant(await refresh(client, laptop["refresh_token"]))
    assert_invalid_grant(await refresh(client, phone["refresh_token"]))
    # The new password works and starts a fresh, usable session.
    fresh = await sign_in(client, user.email, new_password)
    assert (await refresh(client, fresh["refresh_token"])).status_code == 200


async def test_expired_refresh_token_fails(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await _user(session)
    tokens = await sign_in(client, user.email)
    await session.execute(
        text(
            "UPDATE auth_refresh_token SET expires_at = now() - interval '1 second' "
            "WHERE user_id = :u"
        ),
        {"u": user.id},
    )
    assert_invalid_grant(await refresh(client, tokens["refresh_token"]))


def _payload(token: str) -> dict[str, object]:
    part = token.split(".")[1]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


async def test_access_token_carries_no_password_or_secret(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await _user(session)
    tokens = await sign_in(client, user.email)
    rotated = (await refresh(client, tokens["refresh_token"])).json()
    for access in (tokens["access_token"], rotated["access_token"]):
        claims = _payload(access)
        assert set(claims) == {"sub", "iss", "aud", "iat", "exp", "jti", "roles", "gen"}
        assert claims["sub"] == f"user:{user.id}"
        assert claims["roles"] == ["employee"]
        raw = json.dumps(claims)
        for forbidden in (PASSWORD, user.password_hash, tokens["refresh_token"]):
            assert forbidden not in raw
        assert not any(
            marker in key.lower()
            for key in claims
            for marker in ("password", "secret", "hash", "refresh")
        )


async def test_a_second_use_within_seconds_is_refused_but_does_not_sign_out(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Two tabs refreshing at once, or a retry after a timeout: the late one gets nothing,
    and the session of the one that won goes on."""
    user = await _user(session)
    first = await sign_in(client, user.email)
    winner = (await refresh(client, first["refresh_token"])).json()
    assert_invalid_grant(await refresh(client, first["refresh_token"]))
    assert (await refresh(client, winner["refresh_token"])).status_code == 200
