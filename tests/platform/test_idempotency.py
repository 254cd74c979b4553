"""Idempotency-Key on create requests, through POST /api/v1/admin/users."""

from __future__ import annotations

import hashlib
import json
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AuditEvent, IdempotencyRecord, User
from tests.factories.identity import (
    auth_headers,
    bearer,
    make_user,
    new_user_body,
    signed_in,
    with_key,
)

USERS = "/api/v1/admin/users"
PROBLEM = "application/problem+json"


async def users_with_email(session: AsyncSession, email: str) -> int:
    return int(await session.scalar(select(func.count()).where(User.email == email)) or 0)


async def stored_keys(session: AsyncSession, key: str) -> int:
    count = select(func.count()).where(IdempotencyRecord.key == key)
    return int(await session.scalar(count) or 0)


@pytest.fixture
async def admin(app: FastAPI) -> dict[str, str]:
    return await auth_headers(app, "admin")


async def test_same_key_and_body_replays_the_first_response(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    body, key = new_user_body(), str(uuid.uuid4())
    first = await client.post(USERS, json=body, headers=with_key(admin, key))
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers

    second = await client.post(USERS, json=body, headers=with_key(admin, key))
    assert second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.content == first.content
    assert second.json() == first.json()
    assert second.headers["location"] == first.headers["location"]
    assert second.headers["location"] == f"{USERS}/{first.json()['id']}"
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["content-type"] == first.headers["content-type"]

    assert await users_with_email(session, body["email"]) == 1
    created = select(func.count()).where(
        AuditEvent.action == "user.create", AuditEvent.resource_id == first.json()["id"]
    )
    assert await session.scalar(created) == 1, "the replay must not repeat the effect"
    listed = await client.get(USERS, params={"limit": 500}, headers=admin)
    assert [u["email"] for u in listed.json()["items"]].count(body["email"]) == 1


async def test_same_key_with_another_body_is_a_422_problem(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    key = str(uuid.uuid4())
    first = await client.post(USERS, json=new_user_body(), headers=with_key(admin, key))
    assert first.status_code == 201, first.text
    other = new_user_body()
    reused = await client.post(USERS, json=other, headers=with_key(admin, key))
    assert reused.status_code == 422
    assert reused.headers["content-type"] == PROBLEM
    assert "idempotent-replayed" not in reused.headers
    assert "Idempotency-Key" in reused.json()["detail"]
    assert await users_with_email(session, other["email"]) == 0


async def test_the_same_json_with_other_key_order_and_spacing_is_the_same_request(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    body, key = new_user_body(), str(uuid.uuid4())
    compact = json.dumps(body, separators=(",", ":"))
    spread = json.dumps(dict(reversed(list(body.items()))), indent=4)
    assert compact != spread
    headers = with_key(admin, key) | {"Content-Type": "application/json"}

    first = await client.post(USERS, content=compact, headers=headers)
    assert first.status_code == 201, first.text
    second = await client.post(USERS, content=spread, headers=headers)
    assert second.status_code == 201, second.text
    assert second.headers["idempotent-replayed"] == "true"
    assert second.content == first.content
    assert await users_with_email(session, body["email"]) == 1


async def test_keys_are_scoped_per_caller(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    anna, ben = await signed_in(app, "admin"), await signed_in(app, "admin")
    assert anna.subject != ben.subject
    key = "shared-key-" + uuid.uuid4().hex
    bodies = [new_user_body(), new_user_body()]

    responses = [
        await client.post(USERS, json=body, headers=with_key(bearer(app, who), key))
        for who, body in zip((anna, ben), bodies, strict=True)
    ]
    for response in responses:
        assert response.status_code == 201, response.text
        assert "idempotent-replayed" not in response.headers
    assert responses[0].json()["id"] != responses[1].json()["id"]
    for body in bodies:
        assert await users_with_email(session, body["email"]) == 1
    assert await stored_keys(session, key) == 2

    # Each caller still gets their own response back.
    again = await client.post(USERS, json=bodies[1], headers=with_key(bearer(app, ben), key))
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == responses[1].json()["id"]


@pytest.mark.parametrize(
    "key",
    ["k" * 256, "k" * 300, "has space", "", "tab\tinside", "ümlaut".encode()],
    ids=["256-chars", "300-chars", "space", "empty", "tab", "non-ascii"],
)
async def test_a_malformed_key_is_a_400_problem(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], key: str | bytes
) -> None:
    body = new_user_body()
    headers: dict[str, str | bytes] = {**admin, "Idempotency-Key": key}
    response = await client.post(USERS, json=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    assert "Idempotency-Key" in response.json()["detail"]
    assert await users_with_email(session, body["email"]) == 0


async def test_the_longest_valid_key_works(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = "!~" + "k" * 253
    assert len(key) == 255
    first = await client.post(USERS, json=new_user_body(), headers=with_key(admin, key))
    assert first.status_code == 201, first.text


async def test_a_failed_request_stores_no_key(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    taken = await make_user(session)
    duplicate, key = new_user_body(email=taken.email), str(uuid.uuid4())

    failed = await client.post(USERS, json=duplicate, headers=with_key(admin, key))
    assert failed.status_code == 409, failed.text
    assert failed.headers["content-type"] == PROBLEM
    assert await stored_keys(session, key) == 0

    retried = await client.post(USERS, json=duplicate, headers=with_key(admin, key))
    assert retried.status_code == 409
    assert "idempotent-replayed" not in retried.headers
    assert await stored_keys(session, key) == 0

    # The key was never spent, so a corrected request may still use it.
    fixed = await client.post(USERS, json=new_user_body(), headers=with_key(admin, key))
    assert fixed.status_code == 201, fixed.text
    assert "idempotent-replayed" not in fixed.headers
    assert await stored_keys(session, key) == 1


# Concurrency needs real commits and real connections: `committed_app` (conftest).


async def test_a_one_time_secret_is_neither_stored_nor_replayed(
    admin: dict[str, str], client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """The client secret is shown once: a repeat of the create answers 409 with the resource's
    Location, and the stored record does not hold the secret."""
    headers = with_key(admin, "shop-" + uuid.uuid4().hex)
    body = {"name": "Webshop " + uuid.uuid4().hex[:6], "role": "webshop"}
    created = await client.post("/api/v1/admin/clients", json=body, headers=headers)
    assert created.status_code == 201, created.text
    secret = created.json()["client_secret"]

    again = await client.post("/api/v1/admin/clients", json=body, headers=headers)
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert again.headers["location"] == created.headers["location"]
    assert secret not in again.text

    record = await session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.key == headers["Idempotency-Key"])
    )
    assert record is not None
    assert record.response_withheld is True
    assert secret.encode() not in record.response_body
    assert secret not in json.dumps(record.response_headers)


async def test_the_stored_fingerprint_does_not_reveal_the_request(
    admin: dict[str, str], client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """A plain hash of the body would let anyone who reads the table test password guesses."""
    headers = with_key(admin, "fp-" + uuid.uuid4().hex)
    body = new_user_body()
    response = await client.post(USERS, json=body, headers=headers)
    assert response.status_code == 201
    record = await session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.key == headers["Idempotency-Key"])
    )
    assert record is not None
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    plain = hashlib.sha256(f"POST {USERS}\n".encode() + canonical).hexdigest()
    assert record.request_fingerprint != plain
    assert body["password"] not in json.dumps(record.response_headers)
    assert body["password"].encode() not in record.response_body
