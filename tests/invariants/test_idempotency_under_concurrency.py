"""One Idempotency-Key, many simultaneous requests: exactly one effect (real commits)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import IdempotencyRecord, User
from tests.factories.identity import auth_headers, new_user_body, with_key

USERS = "/api/v1/admin/users"
PROBLEM = "application/problem+json"


async def users_with_email(session: AsyncSession, email: str) -> int:
    return int(await session.scalar(select(func.count()).where(User.email == email)) or 0)


async def stored_keys(session: AsyncSession, key: str) -> int:
    count = select(func.count()).where(IdempotencyRecord.key == key)
    return int(await session.scalar(count) or 0)


async def test_twenty_simultaneous_requests_with_one_key_have_one_effect(
    committed_app: FastAPI,
) -> None:
    app = committed_app
    headers = with_key(await auth_headers(app, "admin"), "burst-" + uuid.uuid4().hex)
    body = new_user_body()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        responses = await asyncio.gather(
            *(client.post(USERS, json=body, headers=headers) for _ in range(20))
        )
        statuses = sorted(r.status_code for r in responses)
        assert set(statuses) <= {201, 409}, [r.text for r in responses]
        created = [r for r in responses if r.status_code == 201]
        assert created, statuses
        originals = [r for r in created if "idempotent-replayed" not in r.headers]
        assert len(originals) == 1, statuses
        replays = [r for r in created if r not in originals]
        assert all(r.headers["idempotent-replayed"] == "true" for r in replays)
        assert len({r.content for r in created}) == 1
        assert len({r.headers["location"] for r in created}) == 1
        for conflict in (r for r in responses if r.status_code == 409):
            assert conflict.headers["content-type"] == PROBLEM
            # The in-flight answer, not a duplicate e-mail: that would mean a second effect ran.
            assert "still being processed" in conflict.json()["detail"]

        after = await client.post(USERS, json=body, headers=headers)
        assert after.status_code == 201
        assert after.headers["idempotent-replayed"] == "true"
        assert after.content == originals[0].content

    async with app.state.db.sessions() as session:
        assert await users_with_email(session, body["email"]) == 1
        assert await stored_keys(session, headers["Idempotency-Key"]) == 1
