"""Sales orders: the webshop and sales staff place and cancel them, the warehouse ships them,
back-office readers read them. A client sees only its own orders."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Path, Query, Response, status

from app.domain.identity.principal import Principal
from app.domain.orders import service
from app.domain.orders.rules import OrderStatus
from app.http.conditional import IfMatchHeader, parse_if_match, version_etag
from app.http.dependencies import (
    Idempotent,
    PageParams,
    ReaderDep,
    SessionDep,
    actor_for,
    require,
)
from app.http.problems import problem_responses
from app.http.routing import AreaRouter, DatabaseRoute
from app.schemas.common import Page
from app.schemas.orders import ChannelSettings, OrderCreate, OrderRead, ShipmentCreate

router = AreaRouter(prefix="/api/v1/orders", tags=["orders"], route_class=DatabaseRoute)

READ = require("sales:orders:read", "orders:read")
WRITE = require("sales:orders:write")
SHIP = require("inventory:write")
ADMIN = require("users:admin")
OrderId = Annotated[uuid.UUID, Path(description="The order's id")]


def order_read(row: dict[str, Any]) -> OrderRead:
    address = {
        "name": row["ship_to_name"],
        "street": row["ship_to_street"],
        "postal_code": row["ship_to_postal_code"],
        "city": row["ship_to_city"],
        "country": row["ship_to_country"],
    }
    return OrderRead.model_validate(row | {"shipping_address": address})


@router.post(
    "",
    operation_id="orders_create_order",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderRead,
    dependencies=[WRITE, Idempotent],
    responses={
        200: {"description": "This client placed this external order id before: that order"},
        **problem_responses(409, 422),
    },
)
async def orders_create_order(
    body: OrderCreate,
    session: SessionDep,
    caller: Annotated[Principal, WRITE],
    response: Response,
) -> OrderRead:
    """Reserves every line or nothing: a shortfall is a 409 whose `shortages` list each short
    SKU with what was requested and what is available. Totals are computed by the server."""
    new = service.NewOrder(
        lines=[
            service.NewLine(ln.sku.strip(), ln.quantity, ln.unit_price, ln.vat_category.value)
            for ln in body.lines
        ],
        customer_id=body.customer_id,
        customer_external_id=body.customer_external_id,
        external_id=body.external_id,
        warehouse_id=body.warehouse_id,
        ship_to=service.ShipTo(**body.shipping_address.model_dump())
        if body.shipping_address
        else None,
        currency=body.currency,
        reserve_until=body.reserve_until,
        id=body.id,
    )
    placed = await service.place_order(session, caller, actor_for(caller), new)
    if not placed.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"{router.prefix}/{placed.order['id']}"
    response.headers["ETag"] = version_etag(placed.order["version"])
    return order_read(placed.order)


@router.get(
    "",
    operation_id="orders_list_orders",
    response_model=Page[OrderRead],
)
async def orders_list_orders(
    reader: ReaderDep,
    page: PageParams,
    caller: Annotated[Principal, READ],
    status_filter: Annotated[OrderStatus | None, Query(alias="status")] = None,
    customer_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Page[OrderRead]:
    """Oldest change first (`updated_since` to mirror); a client sees only its own orders."""
    rows, next_cursor = await service.list_orders(
        reader, caller, page, status=status_filter, customer_id=customer_id
    )
    return Page(items=[order_read(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/{order_id}",
    operation_id="orders_get_order",
    response_model=OrderRead,
    responses=problem_responses(404),
)
async def orders_get_order(
    order_id: OrderId, reader: ReaderDep, caller: Annotated[Principal, READ], response: Response
) -> OrderRead:
    row = await service.get_order(reader, caller, order_id)
    response.headers["ETag"] = version_etag(row["version"])
    return order_read(row)


@router.post(
    "/{order_id}/cancel",
    operation_id="orders_cancel_order",
    response_model=OrderRead,
    responses=problem_responses(400, 404, 409, 412),
)
async def orders_cancel_order(
    order_id: OrderId,
    session: SessionDep,
    caller: Annotated[Principal, WRITE],
    response: Response,
    if_match: IfMatchHeader = None,
) -> OrderRead:
    """Releases the stock the order still holds; 409 when it is no longer open."""
    row = await service.cancel_order(
        session, caller, actor_for(caller), order_id, parse_if_match(if_match)
    )
    response.headers["ETag"] = version_etag(row["version"])
    return order_read(row)


@router.post(
    "/{order_id}/shipments",
    operation_id="orders_ship_order",
    response_model=OrderRead,
    responses=problem_responses(400, 404, 409, 412, 422),
)
async def orders_ship_order(
    order_id: OrderId,
    body: ShipmentCreate,
    session: SessionDep,
    caller: Annotated[Principal, SHIP],
    response: Response,
    if_match: IfMatchHeader = None,
) -> OrderRead:
    """Ships some lines (partial shipments allowed) or everything still open: issues the stock
    and releases its reservation."""
    quantities: dict[int, Decimal] | None = None
    if body.lines:
        quantities = {}
        for line in body.lines:  # a line named twice ships both quantities
            quantities[line.line_no] = quantities.get(line.line_no, Decimal(0)) + line.quantity
    row = await service.ship_order(
        session, caller, actor_for(caller), order_id, parse_if_match(if_match), quantities
    )
    response.headers["ETag"] = version_etag(row["version"])
    return order_read(row)


@router.put(
    "/channels/{client_id}",
    operation_id="orders_set_channel",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404, 409, 422),
)
async def orders_set_channel(
    client_id: Annotated[uuid.UUID, Path(description="The integration client's id")],
    body: ChannelSettings,
    session: SessionDep,
    admin: Annotated[Principal, ADMIN],
) -> None:
    """Sets the warehouse an integration client's orders ship from when they name none."""
    await service.set_default_warehouse(
        session, actor_for(admin), client_id, body.default_warehouse_id
    )
