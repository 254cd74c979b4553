"""Test databases: a fresh database per run on a real PostgreSQL server (never mocked).

TEST_DATABASE_URL or DATABASE_URL names the server; without either, an embedded PostgreSQL
(pgserver) is started in a temporary directory and removed afterwards.
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


@contextmanager
def postgres_server() -> Iterator[URL]:
    """The URL of a server's maintenance database, for creating test databases."""
    external = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if external:
        yield to_async_url(external)
        return
    root = Path(tempfile.mkdtemp(prefix="backoffice-test-pg-"))
    embedded = EmbeddedPostgres(root)
    try:
        yield to_async_url(embedded.url)
    finally:
        embedded.stop()
        shutil.rmtree(root, ignore_errors=True)


def _asyncpg_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(server: URL, sql: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(server))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _new_name(label: str) -> str:
    return f"bo_test_{label}_{uuid.uuid4().hex[:10]}"


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
