"""The engine, its one pool, and the two ways of using it: sessions for writes, readers for reads.

A request that changes something runs in a session's transaction. A request that only reads
takes a pooled connection in autocommit mode (a flag on the driver, no round trip): no BEGIN,
no COMMIT. No checkout is pre-pinged either: a connection that died meanwhile (a database
restart) fails its first statement with a disconnect error, which invalidates the whole pool,
so that request gets 503 and the next ones reconnect.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.config import Settings
from app.db.prepared import unusable


@dataclass(frozen=True, slots=True)
class Database:
    """What the app needs of the database: sessions for writes, connections for reads."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # Set in tests: every session and read shares this connection (and its outer transaction).
    shared_connection: AsyncConnection | None = None

    @classmethod
    def from_settings(cls, settings: Settings, url: URL | None = None) -> Database:
        engine = create_async_engine(
            url or settings.async_database_url, **_engine_options(settings)
        )
        return cls(engine=engine, sessions=make_sessionmaker(engine))

    @classmethod
    def bound_to(cls, connection: AsyncConnection) -> Database:
        """Sessions that join an outer transaction as savepoints (rollback-per-test)."""
        sessions = async_sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        return cls(engine=connection.engine, sessions=sessions, shared_connection=connection)

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reading, outside any transaction; returned to the pool after."""
        if self.shared_connection is not None:
            yield self.shared_connection
            return
        async with self.engine.connect() as connection:
            try:
                yield await connection.execution_options(isolation_level="AUTOCOMMIT")
            finally:
                await _drop_if_unusable(connection)

    async def dispose(self) -> None:
        await self.engine.dispose()


async def _drop_if_unusable(connection: AsyncConnection) -> None:
    """A reader runs statements on the driver (prepared.py), past SQLAlchemy, which therefore
    neither notices a connection that died nor ends a transaction the reader began there
    (prepared.one_snapshot). Such a connection is dropped rather than handed to the next
    request: closed, or inside a transaction a cancellation or an error cut off."""
    if connection.invalidated:
        return
    driver = (await connection.get_raw_connection()).driver_connection
    if driver is not None and unusable(driver):
        await connection.invalidate()


def _engine_options(settings: Settings) -> dict[str, Any]:
    return {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout_seconds,
        # Bound values are personal data (e-mails, names): keep them out of error messages and
        # therefore out of logs.
        "hide_parameters": True,
        "pool_recycle": 1800,
        "connect_args": {
            "timeout": settings.db_connect_timeout_seconds,
            "server_settings": {
                "application_name": "backoffice",
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "timezone": "UTC",
            },
        },
    }


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
