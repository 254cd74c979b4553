"""Queries for orders: single statements on the hot path (placing an order)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Uuid, bindparam, func, literal_column, or_, select, update
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.keyset import KeysetQuery, PageRequest
from app.db.models.orders import Order, OrderLine, SalesChannel
from app.db.prepared import PreparedRead

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


_BY_ID = PreparedRead(_ORDER_ROW.where(Order.id == bindparam("order_id"), _visible(_CALLER)))
_BY_EXTERNAL_ID = PreparedRead(
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


async def insert_order(session: AsyncSession, values: dict[str, Any]) -> dict[str, Any] | None:
    """The stored order's server-set columns; None when the client already placed an order
    with this external id (the statement then waits for that order's transaction to end)."""
    statement = (
        insert(Order)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Order.placed_by, Order.external_id])
        .returning(Order.version, Order.created_at, Order.updated_at)
    )
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else dict(row._mapping)


async def insert_lines(session: AsyncSession, lines: Sequence[dict[str, Any]]) -> None:
    await session.execute(insert(OrderLine), list(lines))


async def order_row(
    db: AsyncConnection, order_id: uuid.UUID, caller: uuid.UUID | None
) -> dict[str, Any] | None:
    """The order with its lines; None when missing or not the client's (`caller`: the client,
    or None for a caller that sees every order)."""
    return await _BY_ID.one_or_none(db, order_id=order_id, caller=caller)


async def order_by_external_id(
    db: AsyncConnection, placed_by: uuid.UUID, external_id: str
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


async def default_warehouse(db: AsyncSession, client_id: uuid.UUID) -> uuid.UUID | None:
    found: uuid.UUID | None = await db.scalar(
        select(SalesChannel.default_warehouse_id).where(SalesChannel.client_id == client_id)
    )
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
