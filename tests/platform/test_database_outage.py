"""A database outage is a 503 problem with Retry-After, and the app recovers by itself."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from app.config import Settings, to_async_url
from app.db.embedded import EmbeddedPostgres
from app.db.migrations import upgrade_to_head
from app.http.routing import DatabaseRoute
from app.main import create_app
from tests.conftest import CommittedApp
from tests.factories.accounting import COMPANY, company_body
from tests.factories.identity import auth_headers

PROBLEM = "application/problem+json"

router = APIRouter(route_class=DatabaseRoute)


@router.get("/select-one")
async def select_one(request: Request) -> dict[str, int]:
    reader: AsyncConnection = request.state.reader
    return {"one": (await reader.execute(text("SELECT 1"))).scalar_one()}


class OwnServer:
    """An embedded PostgreSQL of this test's own, stopped and started on the same data dir."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._server: EmbeddedPostgres | None = EmbeddedPostgres(root)
        self.url = self._server.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def start(self) -> None:
        assert self._server is None
        self._server = EmbeddedPostgres(self.root)
        assert self._server.url == self.url


@pytest.fixture
def own_server() -> Iterator[OwnServer]:
    root = Path(tempfile.mkdtemp(prefix="backoffice-outage-"))
    server: OwnServer | None = None
    try:
        server = OwnServer(root)
        upgrade_to_head(to_async_url(server.url))
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


def assert_unavailable(response: httpx.Response, retry_after: int) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["Retry-After"] == str(retry_after)
    body: dict[str, Any] = response.json()
    assert body["status"] == 503
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert body["detail"]
    assert "backoffice-outage" not in response.text  # no socket paths or driver messages


async def test_outage_is_503_and_the_app_recovers_by_itself(
    own_server: OwnServer, make_settings: Callable[..., Settings]
) -> None:
    started = time.monotonic()
    settings = make_settings(
        to_async_url(own_server.url),
        db_pool_timeout_seconds=2,
        db_connect_timeout_seconds=2,
        retry_after_seconds=7,
    )
    app = create_app(settings)  # its own engine: no test transaction around it
    app.include_router(router, prefix="/test-only")
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            assert (await client.get("/readyz")).status_code == 200
            assert (await client.get("/test-only/select-one")).json() == {"one": 1}

            await asyncio.to_thread(own_server.stop)
            assert_unavailable(await client.get("/readyz"), retry_after=7)
            assert_unavailable(await client.get("/test-only/select-one"), retry_after=7)
            assert (await client.get("/healthz")).status_code == 200  # liveness is unaffected

            await asyncio.to_thread(own_server.start)
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert (await client.get("/test-only/select-one")).json() == {"one": 1}
    finally:
        await app.state.db.dispose()
    assert time.monotonic() - started < 30


async def test_a_server_out_of_connections_is_503_not_500(
    database_url: URL, make_settings: Callable[..., Settings]
) -> None:
    """PostgreSQL up but refusing connections ("too many clients", SQLSTATE 53300) is an
    outage to the caller: retry later, not a bug to report."""
    role = f"bo_full_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(database_url, poolclass=NullPool)
    async with admin.begin() as conn:
        await conn.execute(text(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0"))
    app = create_app(make_settings(database_url.set(username=role, password=None)))
    app.include_router(router, prefix="/test-only")
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            settings: Settings = app.state.settings
            response = await client.get("/test-only/select-one")
            assert_unavailable(response, retry_after=settings.retry_after_seconds)
    finally:
        await app.state.db.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f"DROP ROLE {role}"))
        await admin.dispose()


async def test_a_statement_that_waits_past_the_statement_timeout_is_503_not_500(
    committed_app_with: CommittedApp,
) -> None:
    """A lock held elsewhere longer than the statement timeout (SQLSTATE 57014): the server
    is too busy to answer now, not broken."""
    async with committed_app_with(db_statement_timeout_ms=500) as app:
        settings: Settings = app.state.settings
        holder = await asyncpg.connect(settings.database_url.replace("+asyncpg", ""))
        try:
            async with holder.transaction():
                await holder.execute("LOCK TABLE accounting_company IN SHARE MODE")
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                    headers = await auth_headers(app, "accountant")
                    response = await client.put(COMPANY, json=company_body(), headers=headers)
            assert_unavailable(response, retry_after=settings.retry_after_seconds)
        finally:
            await holder.close()
