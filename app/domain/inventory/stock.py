"""What is in stock and what the shop may sell."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.keyset import PageRequest
from app.db.repositories import inventory as repo
from app.domain.inventory.rules import available_for_sale


def _with_availability(row: dict[str, Any]) -> dict[str, Any]:
    on_hand: Decimal = row["on_hand"]
    reserved: Decimal = row["reserved"]
    row["available"] = on_hand - reserved
    row["available_for_sale"] = available_for_sale(on_hand, reserved, row.pop("safety_stock"))
    return row


async def stock_levels(
    reader: AsyncConnection,
    page: PageRequest,
    *,
    skus: Sequence[str] | None = None,
    warehouse_id: uuid.UUID | None = None,
    per_warehouse: bool = False,
) -> tuple[list[dict[str, Any]], str | None]:
    """Per item summed over warehouses, or per item and warehouse (always so when a warehouse
    is given). `available_for_sale` keeps the item's safety stock back."""
    if per_warehouse or warehouse_id is not None:
        rows, cursor = await repo.stock_per_warehouse(
            reader, page, skus=skus, warehouse_id=warehouse_id
        )
    else:
        rows, cursor = await repo.stock_summed(reader, page, skus=skus)
        for row in rows:
            row["warehouse_id"] = row["warehouse_code"] = None
    return [_with_availability(row) for row in rows], cursor


async def low_stock(
    reader: AsyncConnection, page: PageRequest
) -> tuple[list[dict[str, Any]], str | None]:
    """Active items whose available stock is at or below their reorder point."""
    return await repo.low_stock(reader, page)
