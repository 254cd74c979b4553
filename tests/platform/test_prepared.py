"""Statements run on the driver (app/db/prepared.py): one whose plan depends on its values is
planned for them each time, inside its own transaction or the caller's, and leaves the
connection's settings as they were."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.config import Settings
from app.db.engine import Database
from app.db.prepared import Prepared

_MODE = "SELECT current_setting('plan_cache_mode') AS mode"
CUSTOM = Prepared(text(_MODE), custom_plan=True)
PLAIN = Prepared(text(_MODE))


async def _in_transaction(conn: AsyncConnection) -> bool:
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None
    return bool(driver.is_in_transaction())


async def test_a_custom_planned_statement_outside_a_transaction_runs_in_its_own(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as conn:
        assert not await _in_transaction(conn)
        for _ in range(7):  # past the five runs after which a generic plan may be chosen
            assert await CUSTOM.scalar(conn) == "force_custom_plan"
        assert not await _in_transaction(conn)
        assert await PLAIN.scalar(conn) == "auto"


async def test_a_custom_planned_statement_inside_a_transaction_leaves_it_as_it_was(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as conn, conn.begin():
        await conn.execute(text("SELECT 1"))  # BEGIN is sent with the first statement
        assert await _in_transaction(conn)
        assert await CUSTOM.scalar(conn) == "force_custom_plan"
        assert await _in_transaction(conn)
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
