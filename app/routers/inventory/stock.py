"""Stock levels: what the shop may sell, and what needs reordering."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from fastapi import Query, Request, Response

from app.domain.inventory import stock
from app.http.conditional import cached_json
from app.http.dependencies import PageParams, ReaderDep, require
from app.http.routing import AreaRouter, DatabaseRoute
from app.routers.inventory.items import NOT_MODIFIED, READ
from app.schemas.common import Page
from app.schemas.inventory import LowStockItem, Sku, StockPage

router = AreaRouter(prefix="/api/v1/inventory", tags=["inventory"], route_class=DatabaseRoute)


@router.get(
    "/stock",
    operation_id="inventory_list_stock",
    response_model=StockPage,
    dependencies=[READ],
    responses=NOT_MODIFIED,
)
async def inventory_list_stock(
    request: Request,
    reader: ReaderDep,
    page: PageParams,
    sku: Annotated[list[Sku] | None, Query(max_length=500, description="Only these SKUs")] = None,
    warehouse_id: Annotated[
        uuid.UUID | None, Query(description="Only this warehouse (implies per_warehouse)")
    ] = None,
    per_warehouse: Annotated[
        bool, Query(description="One row per item and warehouse instead of per item")
    ] = False,
) -> Response:
    """Availability per SKU, summed over warehouses unless `per_warehouse` or `warehouse_id`
    is given. Send the ETag back in `If-None-Match` to poll cheaply (304 when unchanged)."""
    skus = [s.strip() for s in sku] if sku else None
    objects, next_cursor = await stock.stock_levels(
        reader, page, skus=skus, warehouse_id=warehouse_id, per_warehouse=per_warehouse
    )
    # The database renders the StockLevel objects; the page around them is a StockPage.
    body = b'{"items":[%s],"next_cursor":%s}' % (objects.encode(), json.dumps(next_cursor).encode())
    return cached_json(request, body)


@router.get(
    "/stock/low",
    operation_id="inventory_list_low_stock",
    response_model=Page[LowStockItem],
    dependencies=[require("inventory:read")],
)
async def inventory_list_low_stock(reader: ReaderDep, page: PageParams) -> Page[LowStockItem]:
    """Active items whose available stock (all warehouses) is at or below the reorder point."""
    rows, next_cursor = await stock.low_stock(reader, page)
    return Page(items=[LowStockItem.model_validate(r) for r in rows], next_cursor=next_cursor)
