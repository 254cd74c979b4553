"""Forged, stale, oversized and otherwise wrong access tokens: every one is refused with 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from jose import jwt
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.config import Settings
from app.db.engine import Database
from app.main import create_app, signing_key_for
from tests.conftest import TEST_JWT_SECRET
from tests.factories.identity import (
    auth_headers,
    bearer,
    current_principal,
    make_user,
    principal_for,
)

ME = "/api/v1/auth/me"
ADMIN_USERS = "/api/v1/admin/users"
ROLES = "/api/v1/auth/roles"
OTHER_SECRET = "another-secret-" + "y" * 32


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json_part(value: dict[str, Any]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":")).encode())


def _hs256_by_hand(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    signing_input = f"{_json_part(header)}.{_json_part(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def _claims(
    settings: Settings, subject: str, roles: list[str], /, **changes: Any
) -> dict[str, Any]:
    """Claims as the server issues them; a change of None drops that claim."""
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "jti": uuid.uuid4().hex,
        "roles": roles,
        "gen": 1,  # a new user's token generation
    }
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def _sign(claims: dict[str, Any], *, secret: str = TEST_JWT_SECRET, kid: str) -> str:
    return jwt.encode(claims, secret, algorithm="HS256", headers={"kid": kid})


def _assert_invalid_token(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 401
    assert body["title"] == "Unauthorized"


@pytest.fixture
def kid(settings: Settings) -> str:
    return signing_key_for(settings).kid


@pytest.fixture
async def admin_subject(session: AsyncSession) -> str:
    """A real, active admin: a forged token for them would get through if it were accepted."""
    user = await make_user(session, roles=["admin"])
    return f"user:{user.id}"


async def _get_with(client: httpx.AsyncClient, path: str, token: str) -> httpx.Response:
    return await client.get(path, headers={"Authorization": f"Bearer {token}"})


async def test_a_genuine_token_gets_through(
    client: httpx.AsyncClient, settings: Settings, kid: str, admin_subject: str
) -> None:
    # The forged variants below differ from this one token in a single respect each.
    token = _sign(_claims(settings, admin_subject, ["admin"]), kid=kid)
    assert (await _get_with(client, ADMIN_USERS, token)).status_code == 200
    assert (await _get_with(client, ME, token)).status_code == 200


async def test_alg_none_token_is_refused(
    client: httpx.AsyncClient, settings: Settings, kid: str, admin_subject: str
) -> None:
    header = {"alg": "none", "typ": "JWT", "kid": kid}
    claims = _claims(settings, admin_subject, ["admin"])
    for token in (
        f"{_json_part(header)}.{_json_part(claims)}.",
        f"{_json_part(header)}.{_json_part(claims)}",
        f"{_json_part(header | {'alg': 'None'})}.{_json_part(claims)}.",
    ):
        _assert_invalid_token(await _get_with(client, ADMIN_USERS, token))
        _assert_invalid_token(await _get_with(client, ME, token))


async def test_token_signed_with_another_secret_is_refused(
    client: httpx.AsyncClient, settings: Settings, kid: str, admin_subject: str
) -> None:
    token = _sign(_claims(settings, admin_subject, ["admin"]), secret=OTHER_SECRET, kid=kid)
    _assert_invalid_token(await _get_with(client, ADMIN_USERS, token))
    # Also with the key id that other secret would have.
    other_kid = hashlib.sha256(OTHER_SECRET.encode()).hexdigest()[:16]
    token = _sign(_claims(settings, admin_subject, ["admin"]), secret=OTHER_SECRET, kid=other_kid)
    _assert_invalid_token(await _get_with(client, ADMIN_USERS, token))


async def test_expired_token_is_refused_beyond_the_leeway(
    client: httpx.AsyncClient, settings: Settings, kid: str, admin_subject: str
) -> None:
    now = datetime.now(UTC)
    claims = _claims(
        settings,
        admin_subject,
        ["admin"],
        iat=int((now - timedelta(minutes=20)).timestamp()),
        exp=int((now - timedelta(seconds=90)).timestamp()),
    )
    _assert_invalid_token(await _get_with(client, ADMIN_USERS, _sign(claims, kid=kid)))


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("aud", "someone-else"),
        ("aud", ["someone-else"]),
        ("iss", "another-issuer"),
        ("exp", None),
        ("sub", None),
        ("iat", None),
        ("iss", None),
        ("aud", None),
        ("exp", "tomorrow"),
    ],
)
async def test_token_with_wrong_or_missing_claim_is_refused(
    client: httpx.AsyncClient,
    settings: Settings,
    kid: str,
    admin_subject: str,
    claim: str,
    value: Any,
) -> None:
    claims = _claims(settings, admin_subject, ["admin"], **{claim: value})
    if value is None:
        assert claim not in claims
    token = _sign(claims, kid=kid)
    _assert_invalid_token(await _get_with(client, ADMIN_USERS, token))
    _assert_invalid_token(await _get_with(client, ME, token))


async def test_tampered_payload_is_refused(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    user = await make_user(session, roles=["employee"])
    employee = await current_principal(session, principal_for("employee", user.id))
    honest = bearer(app, employee)["Authorization"].removeprefix("Bearer ")
    assert (await _get_with(client, ME, honest)).status_code == 200
    assert (await _get_with(client, ADMIN_USERS, honest)).status_code == 403

    header, payload, signature = honest.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["admin"]
    forged = f"{header}.{_json_part(claims)}.{signature}"
    _assert_invalid_token(await _get_with(client, ADMIN_USERS, forged))
    _assert_invalid_token(await _get_with(client, ME, forged))


async def test_unknown_kid_is_refused(
    client: httpx.AsyncClient, settings: Settings, kid: str, admin_subject: str
) -> None:
    claims = _claims(settings, admin_subject, ["admin"])
    # Right secret, wrong key id: the server must not try other keys or ignore the kid.
    for other in ("0" * 16, kid.upper(), "", "../../etc/passwd"):
        _assert_invalid_token(await _get_with(client, ADMIN_USERS, _sign(claims, kid=other)))
    no_kid = jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS256")
    _assert_invalid_token(await _get_with(client, ADMIN_USERS, no_kid))


async def test_oversized_token_is_refused_even_when_validly_signed(
    client: httpx.AsyncClient, settings: Settings, kid: str, admin_subject: str
) -> None:
    roles = ["admin"] + [f"role-{n:04d}" for n in range(400)]
    token = _sign(_claims(settings, admin_subject, roles), kid=kid)
    assert len(token.encode()) > 4096
    _assert_invalid_token(await _get_with(client, ADMIN_USERS, token))


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "not.a.jwt",
        "a.b.c.d.e",
        "....",
        "eyJhbGciOiJIUzI1NiJ9.%%%.xyz",
        _b64url(b"[1,2]") + ".e30.",
        _b64url(b'"HS256"') + ".e30.sig",
    ],
)
async def test_garbage_token_is_refused(client: httpx.AsyncClient, token: str) -> None:
    _assert_invalid_token(await _get_with(client, ME, token))


@pytest.mark.parametrize(
    "subject",
    [
        "admin",
        "user",
        "user:",
        "user:not-a-uuid",
        "robot:{id}",
        "USER:{id}",
        "{id}",
        "user:{id}:extra",
        ":{id}",
        "user:urn:uuid:{id}",
        "user:{{{id}}}",
        "user: {id}",
        "client:{hex}",
    ],
)
async def test_subject_that_is_not_a_principal_is_refused(
    client: httpx.AsyncClient, settings: Settings, kid: str, subject: str
) -> None:
    ident = uuid.uuid4()
    sub = subject.format(id=ident, hex=ident.hex)
    token = _sign(_claims(settings, sub, ["admin"]), kid=kid)
    _assert_invalid_token(await _get_with(client, ADMIN_USERS, token))


async def test_roles_that_are_not_a_list_of_names_are_refused(
    client: httpx.AsyncClient, settings: Settings, kid: str, admin_subject: str
) -> None:
    for roles in ("admin", [["admin"]], None, {"admin": True}):
        claims = _claims(settings, admin_subject, ["admin"], roles=roles)
        _assert_invalid_token(await _get_with(client, ADMIN_USERS, _sign(claims, kid=kid)))


async def test_missing_credentials_get_a_bare_bearer_challenge(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}):
        response = await client.get(ME, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == 401


async def test_valid_token_without_the_permission_gets_403_not_401(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    for role in ("employee", "accountant", "auditor", "webshop"):
        response = await client.get(ADMIN_USERS, headers=await auth_headers(app, role))
        assert response.status_code == 403, (role, response.text)
        assert "www-authenticate" not in response.headers
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (
        await client.get(ADMIN_USERS, headers=await auth_headers(app, "admin"))
    ).status_code == 200


# --- RS256 ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def rs_settings(
    make_settings: Callable[..., Settings], database_url: URL, rsa_private_pem: str
) -> Settings:
    return make_settings(database_url, jwt_secret=None, jwt_private_key=rsa_private_pem)


@pytest.fixture
async def rs_client(
    rs_settings: Settings, connection: AsyncConnection
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    rs_app = create_app(rs_settings, Database.bound_to(connection))
    transport = httpx.ASGITransport(app=rs_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield rs_app, http


async def test_rs256_token_works(
    rs_client: tuple[FastAPI, httpx.AsyncClient], rs_settings: Settings
) -> None:
    rs_app, http = rs_client
    headers = await auth_headers(rs_app, "employee")
    header = jwt.get_unverified_header(headers["Authorization"].removeprefix("Bearer "))
    assert header["alg"] == "RS256"
    assert header["kid"] == signing_key_for(rs_settings).kid
    response = await http.get(ROLES, headers=headers)
    assert response.status_code == 200, response.text
    assert any(role["name"] == "admin" for role in response.json()["roles"])


async def test_rs256_server_refuses_hs256_signed_with_its_public_key(
    rs_client: tuple[FastAPI, httpx.AsyncClient], rs_settings: Settings
) -> None:
    """The classic algorithm confusion: HMAC keyed with the (public) verification key."""
    _rs_app, http = rs_client
    key = signing_key_for(rs_settings)
    public_pem = key.verification_key
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    claims = _claims(rs_settings, f"user:{uuid.uuid4()}", ["admin"])
    header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
    for secret in (public_pem.encode(), public_pem.strip().encode()):
        token = _hs256_by_hand(header, claims, secret)
        _assert_invalid_token(await _get_with(http, ROLES, token))
        _assert_invalid_token(await _get_with(http, ADMIN_USERS, token))
    # And an HS256 token from an HS256 server with the same issuer/audience is no good either.
    hs_token = _sign(claims, kid=key.kid)
    _assert_invalid_token(await _get_with(http, ROLES, hs_token))
    none_token = f"{_json_part({'alg': 'none', 'kid': key.kid})}.{_json_part(claims)}."
    _assert_invalid_token(await _get_with(http, ROLES, none_token))


@pytest.mark.parametrize(
    ("iat_offset", "lifetime"),
    [
        (timedelta(hours=1), timedelta(minutes=5)),  # issued in the future
        (timedelta(0), timedelta(days=30)),  # lives far longer than we ever issue
    ],
)
async def test_token_with_a_lifetime_we_never_issue_is_refused(
    client: httpx.AsyncClient,
    settings: Settings,
    kid: str,
    admin_subject: str,
    iat_offset: timedelta,
    lifetime: timedelta,
) -> None:
    issued = datetime.now(UTC) + iat_offset
    claims = _claims(
        settings,
        admin_subject,
        ["admin"],
        iat=int(issued.timestamp()),
        exp=int((issued + lifetime).timestamp()),
    )
    _assert_invalid_token(await _get_with(client, ADMIN_USERS, _sign(claims, kid=kid)))


@pytest.mark.parametrize("crit", [["x-backoffice-ext"], ["exp"], []])
async def test_a_token_demanding_unknown_extensions_is_refused(
    client: httpx.AsyncClient, settings: Settings, kid: str, admin_subject: str, crit: list[str]
) -> None:
    """RFC 7515 4.1.11: a `crit` header names extensions the recipient must understand; we
    understand none, so a correctly signed token that lists any is refused."""
    claims = _claims(settings, admin_subject, ["admin"])
    token = jwt.encode(
        claims, TEST_JWT_SECRET, algorithm="HS256", headers={"kid": kid, "crit": crit}
    )
    _assert_invalid_token(await _get_with(client, ME, token))


async def test_a_cached_token_is_not_used_past_its_expiry(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, kid: str, admin_subject: str
) -> None:
    """Verified tokens are cached; the cache must not extend a token's life."""
    now = datetime.now(UTC)
    token = _sign(
        _claims(settings, admin_subject, ["admin"], exp=int(now.timestamp()) + 2), kid=kid
    )
    assert (await _get_with(client, ME, token)).status_code == 200
    later = now.timestamp() + 2 + 31  # past exp and the 30 s leeway for clock skew
    with patch("app.security.tokens.time.time", return_value=later):
        _assert_invalid_token(await _get_with(client, ME, token))
