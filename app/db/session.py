"""The unit of work: one session, one transaction, committed or rolled back in one place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import Database


@asynccontextmanager
async def unit_of_work(db: Database) -> AsyncIterator[AsyncSession]:
    """Commit when the block succeeds; roll back (by closing the session) when it raises.

    Services and repositories only flush; this is the only commit, used by the HTTP route
    class, the CLI and background jobs alike.
    """
    async with db.sessions() as session:
        yield session
        await session.commit()
