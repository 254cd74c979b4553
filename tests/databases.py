"""Test databases: a fresh database per run on a real PostgreSQL server (never mocked).

TEST_DATABASE_URL or DATABASE_URL names the server; without either, an embedded PostgreSQL
(pgserver) is started in a temporary directory and removed afterwards. Under pytest-xdist the
controller starts that one embedded server for the whole run (tests/conftest.py) and
names it to its workers in SHARED_SERVER_VARIABLE; each worker's session creates its own
databases on it, and only the controller stops it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL

from app.config import to_async_url
from app.db.embedded import EmbeddedPostgres

# Set by the xdist controller for its workers. Its prefix keeps it out of the environment of
# the `backoffice` commands the tests run (tests/platform/test_cli.py's child_env), and the
# app's settings ignore names they do not know.
SHARED_SERVER_VARIABLE = "BACKOFFICE_TEST_SHARED_SERVER_URL"


def configured_server() -> str | None:
    """The server the user named for tests, if any."""
    return os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")


class TemporaryEmbeddedServer:
    """An embedded PostgreSQL in a temporary directory, removed again by `stop()`."""

    def __init__(self) -> None:
        # Not in pytest's tmp_path: see the data_dir fixture in tests/platform/test_cli.py.
        self.root = Path(tempfile.mkdtemp(prefix="backoffice-test-pg-"))
        try:
            self._embedded = EmbeddedPostgres(self.root)
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise
        self.url: str = self._embedded.url

    def stop(self) -> None:
        try:
            self._embedded.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def postgres_server() -> Iterator[URL]:
    """The URL of a server's maintenance database, for creating test databases."""
    external = configured_server() or os.environ.get(SHARED_SERVER_VARIABLE)
    if external:
        yield to_async_url(external)
        return
    server = TemporaryEmbeddedServer()
    try:
        yield to_async_url(server.url)
    finally:
        server.stop()


def _asyncpg_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(server: URL, sql: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(server))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _new_name(label: str) -> str:
    # The xdist worker ("gw0", ...) in the name tells in pg_stat_activity whose database it is.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"bo_test_{label}_{worker}{'_' if worker else ''}{uuid.uuid4().hex[:10]}"


@contextmanager
def scratch_database(server: URL, label: str = "t") -> Iterator[URL]:
    """A new, empty database on `server`, dropped (with its connections) afterwards."""
    name = _new_name(label)
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name)
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@asynccontextmanager
async def scratch_database_async(server: URL, label: str = "t") -> AsyncIterator[URL]:
    """`scratch_database` for async code (an event loop is already running)."""
    name = _new_name(label)
    await _admin(server, f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name)
    finally:
        await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
