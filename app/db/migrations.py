"""Alembic, driven from code: the CLI, the app's readiness check and the tests use this."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: URL | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.attributes["url"] = url
    return config


def declared_by_models(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's `include_name`: what autogenerate compares. The job queue's tables are
    procrastinate's, built from its own SQL (see the jobs migration), not from models."""
    return not (type_ == "table" and (name or "").startswith("procrastinate_"))


def upgrade_to_head(url: URL) -> None:
    """Runs synchronously (alembic's env.py starts its own event loop)."""
    command.upgrade(alembic_config(url), "head")


def head_revisions() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


async def current_revisions(engine: AsyncEngine) -> frozenset[str] | None:
    """The revisions the database is at; None when it has no schema yet."""
    async with engine.connect() as conn:
        if await conn.scalar(text("SELECT to_regclass('alembic_version')")) is None:
            return None
        rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
        return frozenset(r[0] for r in rows)
