from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine

from app.config import Settings
from app.db.engine import Database
from app.db.migrations import upgrade_to_head
from app.main import create_app
from tests.databases import (
    SHARED_SERVER_VARIABLE,
    TemporaryEmbeddedServer,
    configured_server,
    postgres_server,
    scratch_database,
    scratch_database_async,
)

TEST_JWT_SECRET = "test-secret-" + "x" * 32
_SHARED_SERVER = pytest.StashKey[TemporaryEmbeddedServer]()


def _is_xdist_controller(config: pytest.Config) -> bool:
    """Whether this process hands tests to xdist workers (not `-n 0`, not `-p no:xdist`)."""
    if hasattr(config, "workerinput"):
        return False
    return bool(getattr(config.option, "tx", None)) and config.option.dist != "no"


def pytest_configure(config: pytest.Config) -> None:
    """With workers and no server named, one embedded PostgreSQL serves the whole run: the
    workers inherit its URL (they are started after this hook) instead of each starting one."""
    if not _is_xdist_controller(config) or configured_server():
        return
    server = TemporaryEmbeddedServer()
    config.stash[_SHARED_SERVER] = server
    os.environ[SHARED_SERVER_VARIABLE] = server.url


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(_SHARED_SERVER, None)
    if server is not None:
        del config.stash[_SHARED_SERVER]
        os.environ.pop(SHARED_SERVER_VARIABLE, None)
        server.stop()


@pytest.fixture(scope="session")
def server_url() -> Iterator[URL]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def database_url(server_url: URL) -> Iterator[URL]:
    """One migrated database for the session (under xdist: per worker); tests roll back
    inside it."""
    with scratch_database(server_url) as url:
        upgrade_to_head(url)
        yield url


@pytest.fixture(scope="session")
def make_settings(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Settings]:
    data_dir: Path = tmp_path_factory.mktemp("data")

    def make(url: URL, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_url": url.render_as_string(hide_password=False),
            "jwt_secret": TEST_JWT_SECRET,
            "data_dir": data_dir,
            "log_level": "WARNING",
        }
        return Settings(**(values | overrides))  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
def settings(make_settings: Callable[..., Settings], database_url: URL) -> Settings:
    return make_settings(database_url)


@pytest.fixture(scope="session")
async def engine(database_url: URL) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that is rolled back after the test."""
    async with engine.connect() as conn:
        transaction = await conn.begin()
        yield conn
        await transaction.rollback()


@pytest.fixture
def app(settings: Settings, connection: AsyncConnection) -> FastAPI:
    return create_app(settings, Database.bound_to(connection))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def session(app: FastAPI) -> AsyncIterator[AsyncSession]:
    """A session in the test's transaction, for arranging data and checking effects."""
    async with app.state.db.sessions() as session:
        yield session
        await session.flush()


CommittedApp = Callable[..., AbstractAsyncContextManager[FastAPI]]


@pytest.fixture
def committed_app_with(server_url: URL, make_settings: Callable[..., Settings]) -> CommittedApp:
    """Makes apps that really commit, each on its own migrated database (dropped afterwards),
    for tests of concurrent requests and of the worker; keywords override settings."""

    @asynccontextmanager
    async def make(**overrides: object) -> AsyncIterator[FastAPI]:
        async with scratch_database_async(server_url, "c") as url:
            await asyncio.to_thread(upgrade_to_head, url)
            # Tests of many simultaneous requests wait for a pooled connection as long as they
            # must: on a loaded machine the pool's 5 s default would turn waiting into 503s.
            settings = make_settings(url, **({"db_pool_timeout_seconds": 120} | overrides))
            app = create_app(settings)
            try:
                yield app
            finally:
                await app.state.db.dispose()

    return make


@pytest.fixture
async def committed_app(committed_app_with: CommittedApp) -> AsyncIterator[FastAPI]:
    async with committed_app_with() as app:
        yield app


@pytest.fixture
async def committed_client(committed_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=committed_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
