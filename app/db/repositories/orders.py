"""Queries for orders: single statements on the hot path (placing an order)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Uuid,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.keyset import KeysetQuery, PageRequest
from app.db.models.orders import OPEN_STATUSES, Order, OrderLine, SalesChannel
from app.db.prepared import Executor, Prepared, as_json, untruncated

_LINES = (
    select(
        func.coalesce(
            func.jsonb_agg(
                aggregate_order_by(
                    func.jsonb_build_object(
                        "line_no", OrderLine.line_no,
                        "item_id", OrderLine.item_id,
                        "sku", OrderLine.sku,
                        "name", OrderLine.name,
                        "quantity", OrderLine.quantity,
                        "shipped", OrderLine.shipped,
                        "unit_price", OrderLine.unit_price,
                        "vat_category", OrderLine.vat_category,
                        "vat_rate", OrderLine.vat_rate,
                        "net_amount", OrderLine.net_amount,
                    ),
                    OrderLine.line_no,
                )
            ),
            literal_column("'[]'::jsonb", JSONB),
        )
    )
    .where(OrderLine.order_id == Order.id)
    .scalar_subquery()
    .label("lines")
)  # fmt: skip
_ORDER_ROW = select(*Order.__table__.c, _LINES)
_CALLER = bindparam("caller", type_=Uuid)


def _visible(caller: ColumnElement[Any]) -> ColumnElement[bool]:
    """A client sees the orders it placed; anyone else allowed to read orders sees all."""
    return or_(caller.is_(None), Order.placed_by == caller)


_BY_ID = Prepared(_ORDER_ROW.where(Order.id == bindparam("order_id"), _visible(_CALLER)))
_BY_EXTERNAL_ID = Prepared(
    _ORDER_ROW.where(
        Order.placed_by == bindparam("placed_by"), Order.external_id == bindparam("external_id")
    )
)
_ORDERS = KeysetQuery(
    _ORDER_ROW,
    stamp=Order.updated_at,
    ident=Order.id,
    filters={
        "placed_by": lambda value: Order.placed_by == value,
        "status": lambda value: Order.status == value,
        "customer_id": lambda value: Order.customer_id == value,
    },
)


_LINE_COLUMNS = (
    "line_no", "item_id", "sku", "name", "quantity", "unit_price", "vat_category", "vat_rate",
    "net_amount",
)  # fmt: skip
# The order and its lines in one statement; the lines are only written when the order is, not
# when this client's external order id was taken already.
_INSERT_ORDER = Prepared(
    text(
        """
        WITH placed AS (
          INSERT INTO orders_order (
            id, placed_by, placed_by_client, external_id, customer_id, warehouse_id, status,
            currency, ship_to_name, ship_to_street, ship_to_postal_code, ship_to_city,
            ship_to_country, net_total, vat_total, gross_total, vat_breakdown, reserve_until)
          VALUES (
            :id, :placed_by, :placed_by_client, :external_id, :customer_id, :warehouse_id,
            :status, :currency, :ship_to_name, :ship_to_street, :ship_to_postal_code,
            :ship_to_city, :ship_to_country, :net_total, :vat_total, :gross_total,
            :vat_breakdown, :reserve_until)
          ON CONFLICT (placed_by, external_id) DO NOTHING
          RETURNING version, created_at, updated_at
        ), lines AS (
          INSERT INTO orders_order_line (
            order_id, line_no, item_id, sku, name, quantity, unit_price, vat_category, vat_rate,
            net_amount)
          SELECT :id, l.*
            FROM unnest(:line_no, :item_id, :sku, :name, :quantity, :unit_price, :vat_category,
                        :vat_rate, :net_amount) AS l
           WHERE EXISTS (SELECT FROM placed)
        )
        SELECT * FROM placed
        """
    ).bindparams(
        *(
            bindparam(c.name, type_=untruncated(c.type))
            for c in Order.__table__.c
            if c.server_default is None
        ),
        *(
            bindparam(name, type_=ARRAY(untruncated(OrderLine.__table__.c[name].type)))
            for name in _LINE_COLUMNS
        ),
    )
)
_DEFAULT_WAREHOUSE = Prepared(
    select(SalesChannel.default_warehouse_id).where(
        SalesChannel.client_id == bindparam("client_id")
    )
)


async def insert_order(
    session: AsyncSession, values: dict[str, Any], lines: Sequence[dict[str, Any]]
) -> dict[str, Any] | None:
    """Stores the order with its lines; its server-set columns, or None, storing nothing, when
    the client already placed an order with this external id (the statement then waits for
    that order's transaction to end)."""
    params = values | {"vat_breakdown": as_json(values["vat_breakdown"])}
    params |= {c: [line[c] for line in lines] for c in _LINE_COLUMNS}
    return await _INSERT_ORDER.one_or_none(session, **params)


async def order_row(
    db: Executor, order_id: uuid.UUID, caller: uuid.UUID | None
) -> dict[str, Any] | None:
    """The order with its lines; None when missing or not the client's (`caller`: the client,
    or None for a caller that sees every order)."""
    return await _BY_ID.one_or_none(db, order_id=order_id, caller=caller)


async def order_by_external_id(
    db: Executor, placed_by: uuid.UUID, external_id: str
) -> dict[str, Any] | None:
    return await _BY_EXTERNAL_ID.one_or_none(db, placed_by=placed_by, external_id=external_id)


async def order_rows(
    reader: AsyncConnection,
    page: PageRequest,
    *,
    placed_by: uuid.UUID | None,
    status: str | None,
    customer_id: uuid.UUID | None,
) -> tuple[list[dict[str, Any]], str | None]:
    return await _ORDERS.page(
        reader, page, placed_by=placed_by, status=status, customer_id=customer_id
    )


async def lock_order(session: AsyncSession, order_id: uuid.UUID) -> dict[str, Any] | None:
    """The order's header, locked until the transaction ends (shipping, cancelling)."""
    row = (
        await session.execute(
            select(*Order.__table__.c).where(Order.id == order_id).with_for_update()
        )
    ).one_or_none()
    return None if row is None else dict(row._mapping)


async def lock_overdue_orders(
    session: AsyncSession, now: datetime, limit: int
) -> list[dict[str, Any]]:
    """The headers of open orders whose reservation ran out by `now`, oldest first, locked
    until the transaction ends. Orders another transaction has locked are skipped, not waited
    for."""
    # The statuses as literals, so the planner sees the partial index's predicate hold.
    is_open = Order.status.in_([literal_column(f"'{status}'") for status in OPEN_STATUSES])
    rows = await session.execute(
        select(*Order.__table__.c)
        .where(Order.reserve_until <= now, is_open)
        .order_by(Order.reserve_until, Order.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [dict(row._mapping) for row in rows]


async def lines_of(session: AsyncSession, order_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(*OrderLine.__table__.c)
        .where(OrderLine.order_id == order_id)
        .order_by(OrderLine.line_no)
    )
    return [dict(r._mapping) for r in rows]


async def add_shipped(session: AsyncSession, order_id: uuid.UUID, shipped: dict[int, Any]) -> None:
    for line_no, quantity in shipped.items():
        await session.execute(
            update(OrderLine)
            .where(OrderLine.order_id == order_id, OrderLine.line_no == line_no)
            .values(shipped=OrderLine.shipped + quantity)
        )


async def set_status(session: AsyncSession, order_id: uuid.UUID, status: str) -> dict[str, Any]:
    row = (
        await session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(status=status, version=Order.version + 1, updated_at=func.now())
            .returning(Order.version, Order.updated_at)
        )
    ).one()
    return dict(row._mapping)


async def default_warehouse(db: Executor, client_id: uuid.UUID) -> uuid.UUID | None:
    found: uuid.UUID | None = await _DEFAULT_WAREHOUSE.scalar(db, client_id=client_id)
    return found


async def set_default_warehouse(
    session: AsyncSession, client_id: uuid.UUID, warehouse_id: uuid.UUID
) -> None:
    await session.execute(
        insert(SalesChannel)
        .values(client_id=client_id, default_warehouse_id=warehouse_id)
        .on_conflict_do_update(
            index_elements=[SalesChannel.client_id],
            set_={"default_warehouse_id": warehouse_id, "updated_at": func.now()},
        )
    )
