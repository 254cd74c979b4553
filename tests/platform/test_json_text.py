"""Values PostgreSQL renders into a JSON page read exactly as the app's own JSON renders them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import TypeAdapter
from sqlalchemy import DateTime, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.json_text import decimal_text, timestamp_text
from app.db.models.inventory import Quantity
from app.schemas.common import StoredQuantity


@pytest.mark.parametrize(
    "stamp",
    [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
async def test_timestamps_read_as_pydantic_writes_them(
    session: AsyncSession, stamp: datetime
) -> None:
    rendered = await session.scalar(select(timestamp_text(literal(stamp, DateTime(True)))))
    assert f'"{rendered}"'.encode() == TypeAdapter(datetime).dump_json(stamp)


@pytest.mark.parametrize("value", ["0", "2.5", "-1.25", "999999999999999.999"])
async def test_decimals_read_as_pydantic_writes_them(session: AsyncSession, value: str) -> None:
    rendered = await session.scalar(select(decimal_text(literal(Decimal(value)), Quantity)))
    stored = TypeAdapter(StoredQuantity)
    assert f'"{rendered}"'.encode() == stored.dump_json(stored.validate_python(Decimal(value)))
