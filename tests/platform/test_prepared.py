"""Statements run on the driver (app/db/prepared.py): one whose plan depends on its values is
planned for them each time, inside its own transaction or the caller's, and leaves the
connection's settings as they were."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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
