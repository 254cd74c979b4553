"""Statements run on the driver (app/db/prepared.py): one whose plan depends on its values is
planned for them each time, inside its own transaction or the caller's, and leaves the
connection's settings as they were."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncpg
import pytest
from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.config import Settings
from app.db.engine import Database
from app.db.prepared import Prepared, one_snapshot

_MODE = "SELECT current_setting('plan_cache_mode') AS mode"
PLAIN = Prepared(text(_MODE))
BACKEND = Prepared(text("SELECT pg_backend_pid() AS pid"))
# What a statement on a connection whose server process ended raises, depending on when the
# driver learns of it.
_DRIVER_ERRORS = (asyncpg.InterfaceError, asyncpg.InternalClientError, asyncpg.PostgresError)
CUSTOM_NEXT = Prepared(text("SELECT CAST(:n AS INTEGER) + 1 AS next"), custom_plan=True)
# The most runs any server-side statement of that text has had.
_MOST_RUNS = text(
    "SELECT coalesce(max(generic_plans + custom_plans), 0) FROM pg_prepared_statements"
    " WHERE statement = :sql"
)


async def _in_transaction(conn: AsyncConnection) -> bool:
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None
    return bool(driver.is_in_transaction())


async def _most_runs(conn: AsyncConnection, statement: Prepared) -> int:
    return int((await conn.execute(_MOST_RUNS, {"sql": statement.sql})).scalar_one())


async def test_a_custom_planned_statement_is_planned_for_its_values_every_time(
    engine: AsyncEngine,
) -> None:
    """PostgreSQL plans a statement's first five runs for their values and may then settle
    on a generic plan: a custom-planned statement is a new statement every run."""
    async with engine.connect() as conn:
        for n in range(8):
            assert await CUSTOM_NEXT.scalar(conn, n=n) == n + 1
        assert not await _in_transaction(conn)
        assert await _most_runs(conn, CUSTOM_NEXT) <= 1  # (closed once unused)
        assert await PLAIN.scalar(conn) == "auto"


async def test_a_reader_left_inside_a_transaction_of_the_driver_is_not_handed_out_again(
    make_settings: Callable[..., Settings], database_url: URL
) -> None:
    """One pooled connection: the next reader gets it, or a new one, never a transaction."""
    database = Database.from_settings(make_settings(database_url, db_pool_size=1,
                                                    db_max_overflow=0))  # fmt: skip
    try:
        async with database.reader() as reader:
            driver = (await reader.get_raw_connection()).driver_connection
            assert driver is not None
            await driver.execute("BEGIN")
        async with database.reader() as reader:
            assert not await _in_transaction(reader)
            assert await PLAIN.scalar(reader) == "auto"
    finally:
        await database.dispose()


async def test_a_reader_whose_snapshot_was_cut_off_by_a_cancellation_is_dropped(
    make_settings: Callable[..., Settings], database_url: URL
) -> None:
    """A cancellation can cut off the snapshot's BEGIN or ROLLBACK, after which asyncpg would
    turn the next request's BEGIN into a savepoint: such a connection is not pooled again."""
    database = Database.from_settings(make_settings(database_url, db_pool_size=1,
                                                    db_max_overflow=0))  # fmt: skip
    started = asyncio.Event()

    async def read_in_snapshot() -> None:
        async with database.reader() as reader, one_snapshot(reader):
            started.set()
            await asyncio.sleep(30)

    try:
        async with database.reader() as reader:
            before = await BACKEND.scalar(reader)
        task = asyncio.create_task(read_in_snapshot())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with database.reader() as reader:
            assert not await _in_transaction(reader)
            assert await BACKEND.scalar(reader) != before
    finally:
        await database.dispose()


async def test_a_reader_whose_server_process_ended_is_not_handed_out_again(
    make_settings: Callable[..., Settings], database_url: URL, engine: AsyncEngine
) -> None:
    """Its statements fail past SQLAlchemy, which would pool the dead connection again: one
    failed read, then the next reader has a live connection."""
    database = Database.from_settings(make_settings(database_url, db_pool_size=1,
                                                    db_max_overflow=0))  # fmt: skip
    try:
        async with database.reader() as reader:
            pid = await BACKEND.scalar(reader)
            async with engine.connect() as other:
                await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(_DRIVER_ERRORS):
                await BACKEND.scalar(reader)
        async with database.reader() as reader:
            assert await BACKEND.scalar(reader) != pid
    finally:
        await database.dispose()
