"""Readiness: the database answers and its schema is the one this code was written for."""

from __future__ import annotations

from app.db.engine import Database
from app.db.migrations import current_revisions
from app.domain.errors import Unavailable


async def schema_revision(db: Database, expected: frozenset[str]) -> str:
    """The database's schema revision; Unavailable when it has none or another one."""
    current = await current_revisions(db.engine)
    if current is None:
        raise Unavailable("the database has no schema yet: run `backoffice migrate`")
    if current != expected:
        raise Unavailable(
            f"the schema is at {sorted(current)}, the code expects {sorted(expected)}"
        )
    return ",".join(sorted(current))
