from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db import models  # noqa: F401
from app.db.base import Base
from app.db.migrations import declared_by_models


def _diff(sync_connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        sync_connection,
        opts={
            "compare_type": True,
            "compare_server_default": True,
            "include_name": declared_by_models,
        },
    )
    return list(compare_metadata(context, Base.metadata))


async def test_models_and_migrations_agree(connection: AsyncConnection) -> None:
    """The schema built by `alembic upgrade head` is exactly what the models declare."""
    assert await connection.run_sync(_diff) == []
