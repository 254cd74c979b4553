"""No change is ever authorised by a token that a committed revocation covers.

Two real connections race at the database level: a write request's token check (it holds the
holder's lock shared until its transaction ends) against a revocation (it takes the lock
exclusively). Whichever comes second waits, and the check sees the revocation once it commits.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from fastapi import FastAPI

from app.config import to_async_url
from app.db.session import unit_of_work
from tests.factories.identity import make_principal

WAIT = 0.5  # long enough to see that a statement is blocked


def _dsn(app: FastAPI) -> str:
    url = to_async_url(app.state.settings.database_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
async def holder(committed_app: FastAPI) -> uuid.UUID:
    async with unit_of_work(committed_app.state.db) as session:
        principal = await make_principal(session, "admin")
    return principal.id


@pytest.fixture
async def sessions(
    committed_app: FastAPI,
) -> AsyncIterator[tuple[asyncpg.Connection, asyncpg.Connection]]:
    """Two PostgreSQL sessions: a request's and an admin's."""
    request = await asyncpg.connect(_dsn(committed_app))
    admin = await asyncpg.connect(_dsn(committed_app))
    try:
        yield request, admin
    finally:
        await request.close()
        await admin.close()


Sessions = tuple[asyncpg.Connection, asyncpg.Connection]


async def _check(conn: asyncpg.Connection, holder: uuid.UUID) -> int:
    generation: int = await conn.fetchval(
        "SELECT auth_current_token_generation($1, 'user')", holder
    )
    return generation


async def test_a_revocation_waits_for_write_requests_already_running(
    sessions: Sessions, holder: uuid.UUID
) -> None:
    request, admin = sessions
    async with request.transaction():
        assert await _check(request, holder) == 1
        revocation = asyncio.create_task(admin.fetchval("SELECT auth_revoke_tokens($1)", holder))
        done, _ = await asyncio.wait({revocation}, timeout=WAIT)
        assert not done, "the revocation did not wait for the running write request"
    # The request committed (authorised by a then-valid token); now the revocation lands.
    assert await asyncio.wait_for(revocation, 5) == 2


async def test_a_write_request_waits_for_a_revocation_in_progress_and_sees_it(
    sessions: Sessions, holder: uuid.UUID
) -> None:
    request, admin = sessions
    async with admin.transaction():
        assert await admin.fetchval("SELECT auth_revoke_tokens($1)", holder) == 2
        check = asyncio.create_task(_check(request, holder))
        done, _ = await asyncio.wait({check}, timeout=WAIT)
        assert not done, "the write request's check did not wait for the revocation"
    # Read after the revocation committed: the old generation (1) is no longer current.
    assert await asyncio.wait_for(check, 5) == 2


async def test_read_checks_do_not_take_part_in_the_locking(
    sessions: Sessions, holder: uuid.UUID
) -> None:
    """Reads never wait: a revocation in progress does not stall a GET (it sees the old
    generation until the revocation commits, and the notification follows at once)."""
    reader, admin = sessions
    async with admin.transaction():
        await admin.fetchval("SELECT auth_revoke_tokens($1)", holder)
        query = "SELECT token_generation FROM auth_principal WHERE id = $1"
        assert await asyncio.wait_for(reader.fetchval(query, holder), WAIT) == 1
