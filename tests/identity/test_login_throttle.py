"""Brute-force throttling of the token endpoint, per account and per source address."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from tests.factories.identity import PASSWORD, make_client, make_user

TOKEN = "/api/v1/auth/token"
WRONG = "not the right password at all"


@asynccontextmanager
async def _from(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests come from `address` (the ASGI scope's client host)."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def _login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(
        TOKEN, data={"grant_type": "password", "username": email, "password": password}
    )


async def _client_login(client: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    return await client.post(
        TOKEN,
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )


def _assert_throttled(response: httpx.Response, settings: Settings) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 429
    retry_after = response.headers["retry-after"]
    assert retry_after.isdigit(), retry_after
    assert 0 < int(retry_after) <= settings.login_window_seconds
    assert "access_token" not in response.json()


def _assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_grant"


async def test_account_is_locked_after_max_failures_even_for_the_right_password(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, settings: Settings
) -> None:
    assert settings.login_max_failures == 5
    user = await make_user(session, email=f"lock-{uuid.uuid4().hex[:8]}@example.com")
    # The account is the normalized e-mail address: case and spaces do not give more tries.
    spellings = [user.email, user.email.upper(), f"  {user.email} ", user.email.title()]
    for attempt in range(settings.login_max_failures):
        _assert_refused(await _login(client, spellings[attempt % len(spellings)], WRONG))

    _assert_throttled(await _login(client, user.email, PASSWORD), settings)
    _assert_throttled(await _login(client, user.email, PASSWORD), settings)
    # The lock is on the account, whatever address the next attempt comes from.
    async with _from(app, "198.51.100.23") as elsewhere:
        _assert_throttled(await _login(elsewhere, user.email, PASSWORD), settings)


async def test_a_successful_sign_in_resets_the_account_count(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(session)
    for _ in range(settings.login_max_failures - 1):
        _assert_refused(await _login(client, user.email, WRONG))
    assert (await _login(client, user.email, PASSWORD)).status_code == 200
    for _ in range(settings.login_max_failures - 1):
        _assert_refused(await _login(client, user.email, WRONG))
    assert (await _login(client, user.email, PASSWORD)).status_code == 200


async def test_unknown_email_and_wrong_password_look_the_same(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session)
    inactive = await make_user(session, is_active=False)
    wrong_password = await _login(client, user.email, WRONG)
    unknown_email = await _login(client, f"nobody-{uuid.uuid4().hex[:8]}@example.com", WRONG)
    inactive_account = await _login(client, inactive.email, PASSWORD)

    def comparable(response: httpx.Response) -> tuple[int, dict[str, object], dict[str, str]]:
        body = response.json()
        assert body.pop("request_id") == response.headers["x-request-id"]
        headers = {
            k: v
            for k, v in response.headers.items()
            if k not in {"x-request-id", "content-length", "date"}
        }
        return response.status_code, body, headers

    assert comparable(wrong_password) == comparable(unknown_email)
    assert comparable(inactive_account) == comparable(unknown_email)
    assert wrong_password.status_code == 400
    assert len(wrong_password.content) == len(unknown_email.content)


async def test_another_account_from_the_same_source_is_not_blocked_by_the_first(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    victim = await make_user(session)
    colleague = await make_user(session)
    for _ in range(settings.login_max_failures):
        _assert_refused(await _login(client, victim.email, WRONG))
    _assert_throttled(await _login(client, victim.email, PASSWORD), settings)
    assert (await _login(client, colleague.email, PASSWORD)).status_code == 200


async def test_the_source_is_blocked_after_four_times_the_account_limit(
    app: FastAPI, session: AsyncSession, settings: Settings
) -> None:
    source_limit = settings.login_max_failures * 4
    colleague = await make_user(session)
    async with _from(app, "203.0.113.7") as office:
        # Many different accounts, none of them over its own limit.
        for n in range(source_limit - 1):
            _assert_refused(await _login(office, f"typo-{n}@example.com", WRONG))
        # A successful sign-in from the source does not wipe the source's count...
        assert (await _login(office, colleague.email, PASSWORD)).status_code == 200
        _assert_refused(await _login(office, "one-more-typo@example.com", WRONG))
        # ...and at the source limit every account is refused from there, the right password too.
        _assert_throttled(await _login(office, colleague.email, PASSWORD), settings)
        _assert_throttled(await _login(office, "typo-0@example.com", WRONG), settings)

    # Other sources are not affected, and neither is the colleague's account.
    async with _from(app, "192.0.2.99") as home:
        assert (await _login(home, colleague.email, PASSWORD)).status_code == 200


async def _throttle_rows(session: AsyncSession) -> set[tuple[str, int]]:
    result = await session.execute(text("SELECT key, failures FROM auth_login_throttle"))
    return {(key, failures) for key, failures in result}


async def test_throttle_table_holds_no_clear_text_email_or_address(
    app: FastAPI, session: AsyncSession, settings: Settings
) -> None:
    email = f"private-{uuid.uuid4().hex[:8]}@example.com"
    address = "198.51.100.77"
    await make_user(session, email=email)
    before = await _throttle_rows(session)
    async with _from(app, address) as office:
        for _ in range(3):
            _assert_refused(await _login(office, email, WRONG))
            _assert_refused(await _login(office, email.upper() + "x", WRONG))

    rows = await _throttle_rows(session)
    # Two accounts and one source: three new entries, counted.
    added = rows - before
    assert sorted(failures for _, failures in added) == [3, 3, 6]
    everything = " ".join(key for key, _ in rows)
    for secret in (email, email.upper(), email.split("@")[0], address, "198.51.100"):
        assert secret.lower() not in everything.lower()
    for key, _ in added:
        assert len(key) == 64
        int(key, 16)
    table_text = await session.scalar(
        text("SELECT string_agg(t::text, ' ') FROM auth_login_throttle t")
    )
    assert email not in table_text
    assert address not in table_text
    # Not a plain hash either: that could be reversed by hashing guessed e-mails and addresses.
    for guess in (f"account:{email}", f"source:{address}"):
        assert hashlib.sha256(guess.encode()).hexdigest() not in everything


async def test_guessing_a_client_secret_throttles_the_source_not_the_client(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, settings: Settings
) -> None:
    """Anyone who knows a client_id could lock the integration out if failures counted per
    client. A secret has 256 random bits: throttling the guessing source is what protects it."""
    shop, secret = await make_client(session, "webshop")
    source_limit = settings.login_max_failures * 4
    async with _from(app, "203.0.113.66") as attacker:
        for _ in range(source_limit):
            wrong = await _client_login(attacker, str(shop.id), secret + "x")
            assert wrong.status_code == 401, wrong.text
            assert wrong.json()["error"] == "invalid_client"
        # The guessing source is refused, even when it finally sends the right secret.
        _assert_throttled(await _client_login(attacker, str(shop.id), secret), settings)
        basic = await attacker.post(
            TOKEN, data={"grant_type": "client_credentials"}, auth=(str(shop.id), secret)
        )
        _assert_throttled(basic, settings)
    # The client itself, from its own address, still gets in, in both ways of authenticating.
    assert (await _client_login(client, str(shop.id), secret)).status_code == 200
    basic = await client.post(
        TOKEN, data={"grant_type": "client_credentials"}, auth=(str(shop.id), secret)
    )
    assert basic.status_code == 200, basic.text


async def test_unknown_client_and_wrong_secret_look_the_same(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    shop, secret = await make_client(session, "webshop")
    wrong = await _client_login(client, str(shop.id), secret + "x")
    unknown = await _client_login(client, str(uuid.uuid4()), secret)
    not_a_uuid = await _client_login(client, "webshop", secret)
    bodies = []
    for response in (wrong, unknown, not_a_uuid):
        assert response.status_code == 401
        body = response.json()
        body.pop("request_id")
        bodies.append(body)
    assert bodies[0] == bodies[1] == bodies[2]


async def test_client_credentials_source_limit(
    app: FastAPI, session: AsyncSession, settings: Settings
) -> None:
    shop, secret = await make_client(session, "webshop")
    async with _from(app, "203.0.113.50") as source:
        for _ in range(settings.login_max_failures * 4):
            response = await _client_login(source, str(uuid.uuid4()), "guessed-secret")
            assert response.status_code == 401
        _assert_throttled(await _client_login(source, str(shop.id), secret), settings)
    async with _from(app, "203.0.113.51") as other_source:
        assert (await _client_login(other_source, str(shop.id), secret)).status_code == 200
