"""Items, warehouses and stock for tests, through the inventory API's own service functions."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Item, MovementLine, Stock, Warehouse
from app.domain.inventory import catalog, movements
from app.domain.inventory.rules import MovementKind
from tests.factories.identity import TEST_ACTOR

ITEMS = "/api/v1/inventory/items"
WAREHOUSES = "/api/v1/inventory/warehouses"
MOVEMENTS = "/api/v1/inventory/movements"
STOCK = "/api/v1/inventory/stock"


def new_item_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": f"SKU-{uuid.uuid4().hex[:8]}",
        "name": "Akkuschrauber 18 V",
        "unit_code": "C62",
        "gtin": "4006381333931",
        "net_price": "89.90",
        "currency": "EUR",
        "vat_category": "standard",
    }
    return body | overrides


async def make_item(session: AsyncSession, **overrides: Any) -> Item:
    body = new_item_body(**overrides)
    body["net_price"] = Decimal(body["net_price"])
    for name in ("safety_stock", "reorder_point"):
        if name in body:
            body[name] = Decimal(body[name])
    return await catalog.create_item(session, TEST_ACTOR, catalog.ItemFields(**body))


async def make_warehouse(session: AsyncSession, code: str | None = None) -> Warehouse:
    fields = catalog.WarehouseFields(
        code=code or f"WH-{uuid.uuid4().hex[:6]}", name="Lager Nord", country="DE"
    )
    return await catalog.create_warehouse(session, TEST_ACTOR, fields)


async def receive(
    session: AsyncSession, item: Item, warehouse: Warehouse, quantity: str | int
) -> None:
    request = movements.MovementRequest(
        MovementKind.receipt, item.id, warehouse.id, quantity=Decimal(quantity)
    )
    await movements.book_movement(session, TEST_ACTOR, request)


async def balance_of(session: AsyncSession, item_id: uuid.UUID, warehouse_id: uuid.UUID) -> Decimal:
    on_hand = await session.scalar(
        select(Stock.on_hand).where(Stock.item_id == item_id, Stock.warehouse_id == warehouse_id)
    )
    return on_hand if on_hand is not None else Decimal(0)


async def ledger_disagreements(session: AsyncSession) -> list[Any]:
    """Balances that differ from the sum of their ledger lines (empty when all agree)."""
    sums = (
        select(
            MovementLine.item_id,
            MovementLine.warehouse_id,
            func.sum(MovementLine.on_hand_delta).label("on_hand"),
            func.sum(MovementLine.reserved_delta).label("reserved"),
        )
        .group_by(MovementLine.item_id, MovementLine.warehouse_id)
        .subquery()
    )
    rows = await session.execute(
        select(Stock.item_id, Stock.warehouse_id, Stock.on_hand, sums.c.on_hand)
        .outerjoin(
            sums,
            (sums.c.item_id == Stock.item_id) & (sums.c.warehouse_id == Stock.warehouse_id),
        )
        .where(
            (func.coalesce(sums.c.on_hand, 0) != Stock.on_hand)
            | (func.coalesce(sums.c.reserved, 0) != Stock.reserved)
        )
    )
    return list(rows)
