"""What is in stock and what the shop may sell."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.keyset import PageRequest
from app.db.repositories import inventory as repo


async def stock_levels(
    reader: AsyncConnection,
    page: PageRequest,
    *,
    skus: Sequence[str] | None = None,
    warehouse_id: uuid.UUID | None = None,
    per_warehouse: bool = False,
) -> tuple[str, str | None]:
    """Per item summed over warehouses, or per item and warehouse (always so when a warehouse
    is given), as the JSON text of the page's stock levels (comma-separated objects) and the
    next cursor. `available = on_hand - reserved`; `available_for_sale` is what is available
    above the item's safety stock, never below zero."""
    return await repo.stock_page(
        reader, page, skus=skus, warehouse_id=warehouse_id, per_warehouse=per_warehouse
    )


async def low_stock(
    reader: AsyncConnection, page: PageRequest
) -> tuple[list[dict[str, Any]], str | None]:
    """Active items whose available stock is at or below their reorder point."""
    return await repo.low_stock(reader, page)
