"""The engine and session factory: pool settings are explicit, connections are pre-pinged."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.config import Settings


@dataclass(frozen=True, slots=True)
class Database:
    """What the app needs of the database: an engine (health, CLI) and a session factory."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @classmethod
    def from_settings(cls, settings: Settings, url: URL | None = None) -> Database:
        engine = create_async_engine(
            url or settings.async_database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout_seconds,
            pool_pre_ping=True,
            # Bound values are personal data (e-mails, names): keep them out of error messages
            # and therefore out of logs.
            hide_parameters=True,
            pool_recycle=1800,
            connect_args={
                "timeout": settings.db_connect_timeout_seconds,
                "server_settings": {
                    "application_name": "backoffice",
                    "statement_timeout": str(settings.db_statement_timeout_ms),
                    "timezone": "UTC",
                },
            },
        )
        return cls(engine=engine, sessions=make_sessionmaker(engine))

    @classmethod
    def bound_to(cls, connection: AsyncConnection) -> Database:
        """Sessions that join an outer transaction as savepoints (rollback-per-test)."""
        sessions = async_sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        return cls(engine=connection.engine, sessions=sessions)

    async def dispose(self) -> None:
        await self.engine.dispose()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
