"""Queries for items, warehouses, stock balances and the stock ledger.

Balances change only through `change_on_hand` (single conditional statements: a decrease that
would leave less on hand than is reserved changes nothing and says so) and always together with
the ledger lines of a movement. Reads that answer requests are single Core statements.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Numeric,
    String,
    Text,
    Uuid,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.dml import ReturningInsert, ReturningUpdate

from app.db.json_text import decimal_text, timestamp_text
from app.db.keyset import KeysetQuery, PageRequest
from app.db.models.inventory import Item, Movement, MovementLine, Quantity, Stock, Warehouse
from app.db.prepared import Executor, Prepared, untruncated

_ITEMS = KeysetQuery(
    select(*Item.__table__.c),
    stamp=Item.updated_at,
    ident=Item.id,
    filters={
        "skus": lambda value: Item.sku == func.any(cast(value, ARRAY(String))),
        "active": lambda value: Item.is_active == value,
    },
)
_ITEM_BY_ID = Prepared(select(*Item.__table__.c).where(Item.id == bindparam("item_id")))
_ITEM_BY_SKU = Prepared(select(*Item.__table__.c).where(Item.sku == bindparam("sku")))
_WAREHOUSES = KeysetQuery(
    select(*Warehouse.__table__.c), stamp=Warehouse.updated_at, ident=Warehouse.id
)
_WAREHOUSE_BY_ID = Prepared(
    select(*Warehouse.__table__.c).where(Warehouse.id == bindparam("warehouse_id"))
)


async def add(session: AsyncSession, row: Item | Warehouse) -> None:
    """IntegrityError when the id, SKU or code is taken."""
    session.add(row)
    await session.flush()


async def load_item(session: AsyncSession, item_id: uuid.UUID) -> Item | None:
    return await session.get(Item, item_id)


async def load_warehouse(session: AsyncSession, warehouse_id: uuid.UUID) -> Warehouse | None:
    return await session.get(Warehouse, warehouse_id)


async def item_row(reader: AsyncConnection, item_id: uuid.UUID) -> dict[str, Any] | None:
    return await _ITEM_BY_ID.one_or_none(reader, item_id=item_id)


async def item_row_by_sku(reader: AsyncConnection, sku: str) -> dict[str, Any] | None:
    return await _ITEM_BY_SKU.one_or_none(reader, sku=sku)


async def item_rows(
    reader: AsyncConnection,
    page: PageRequest,
    *,
    skus: Sequence[str] | None = None,
    active: bool | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    return await _ITEMS.page(reader, page, skus=list(skus) if skus else None, active=active)


async def warehouse_row(reader: Executor, warehouse_id: uuid.UUID) -> dict[str, Any] | None:
    return await _WAREHOUSE_BY_ID.one_or_none(reader, warehouse_id=warehouse_id)


async def warehouse_rows(
    reader: AsyncConnection, page: PageRequest
) -> tuple[list[dict[str, Any]], str | None]:
    return await _WAREHOUSES.page(reader, page)


# Balances -------------------------------------------------------------------------------------


async def change_on_hand(
    session: AsyncSession, item_id: uuid.UUID, warehouse_id: uuid.UUID, delta: Decimal
) -> tuple[Decimal, Decimal] | None:
    """Adds `delta` to what is on hand and returns the new (on_hand, reserved); None, changing
    nothing, when a decrease would leave less on hand than is reserved."""
    statement: ReturningInsert[Decimal, Decimal] | ReturningUpdate[Decimal, Decimal]
    if delta > 0:
        statement = (
            insert(Stock)
            .values(item_id=item_id, warehouse_id=warehouse_id, on_hand=delta)
            .on_conflict_do_update(
                index_elements=[Stock.item_id, Stock.warehouse_id],
                set_={"on_hand": Stock.on_hand + delta, "updated_at": func.now()},
            )
            .returning(Stock.on_hand, Stock.reserved)
        )
    else:
        statement = (
            update(Stock)
            .where(
                Stock.item_id == item_id,
                Stock.warehouse_id == warehouse_id,
                Stock.on_hand + delta >= Stock.reserved,
            )
            .values(on_hand=Stock.on_hand + delta, updated_at=func.now())
            .returning(Stock.on_hand, Stock.reserved)
        )
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else (row.on_hand, row.reserved)


async def lock_balance(
    session: AsyncSession, item_id: uuid.UUID, warehouse_id: uuid.UUID
) -> tuple[Decimal, Decimal]:
    """The current (on_hand, reserved), locked until the transaction ends (a stock count)."""
    await session.execute(
        insert(Stock)
        .values(item_id=item_id, warehouse_id=warehouse_id)
        .on_conflict_do_nothing(index_elements=[Stock.item_id, Stock.warehouse_id])
    )
    row = (
        await session.execute(
            select(Stock.on_hand, Stock.reserved)
            .where(Stock.item_id == item_id, Stock.warehouse_id == warehouse_id)
            .with_for_update()
        )
    ).one()
    return row.on_hand, row.reserved


async def balance(
    session: AsyncSession, item_id: uuid.UUID, warehouse_id: uuid.UUID
) -> tuple[Decimal, Decimal]:
    row = (
        await session.execute(
            select(Stock.on_hand, Stock.reserved).where(
                Stock.item_id == item_id, Stock.warehouse_id == warehouse_id
            )
        )
    ).one_or_none()
    return (Decimal(0), Decimal(0)) if row is None else (row.on_hand, row.reserved)


_ZERO = Decimal(0)
_MOVEMENT_COLUMNS = [c for c in Movement.__table__.c if c.server_default is None]
# The movement and its ledger lines in one statement.
_ADD_MOVEMENT = Prepared(
    text(
        """
        WITH movement AS (
          INSERT INTO inventory_movement (
            id, kind, item_id, order_id, quantity, reason, reference, counted, expected,
            created_by)
          VALUES (
            :id, :kind, :item_id, :order_id, :quantity, :reason, :reference, :counted,
            :expected, :created_by)
          RETURNING *
        ), lines AS (
          INSERT INTO inventory_movement_line (
            movement_id, item_id, warehouse_id, on_hand_delta, reserved_delta)
          SELECT :id, l.*
            FROM unnest(:line_item_ids, :line_warehouse_ids, :line_on_hand_deltas,
                        :line_reserved_deltas) AS l
        )
        SELECT * FROM movement
        """
    ).bindparams(
        *(bindparam(c.name, type_=untruncated(c.type)) for c in _MOVEMENT_COLUMNS),
        bindparam("line_item_ids", type_=ARRAY(Uuid)),
        bindparam("line_warehouse_ids", type_=ARRAY(Uuid)),
        bindparam("line_on_hand_deltas", type_=ARRAY(Numeric(18, 3))),
        bindparam("line_reserved_deltas", type_=ARRAY(Numeric(18, 3))),
    )
)


async def add_movement(
    session: AsyncSession, movement: dict[str, Any], lines: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """Books the movement and its ledger lines (none for a count that confirms the balance);
    returns the movement as stored."""
    stored = await _ADD_MOVEMENT.one_or_none(
        session,
        **({c.name: None for c in _MOVEMENT_COLUMNS} | movement),
        line_item_ids=[line["item_id"] for line in lines],
        line_warehouse_ids=[line["warehouse_id"] for line in lines],
        line_on_hand_deltas=[line.get("on_hand_delta", _ZERO) for line in lines],
        line_reserved_deltas=[line.get("reserved_delta", _ZERO) for line in lines],
    )
    assert stored is not None
    return stored


# Stock reads ----------------------------------------------------------------------------------
# Pages are rendered by PostgreSQL (KeysetQuery.json_page): a 100-SKU page costs the app a
# fraction of building and validating its models. The objects are StockLevel's, key for key.


def _stock_level(row: Any, *, per_warehouse: bool) -> list[ColumnElement[Any]]:
    available = row.on_hand - row.reserved
    # What the shop may sell: available stock above the safety stock, never below zero.
    for_sale = func.greatest(available - row.safety_stock, 0)
    no_warehouse = null()
    return [
        row.item_id.label("item_id"),
        row.sku.label("sku"),
        (row.warehouse_id if per_warehouse else cast(no_warehouse, Uuid)).label("warehouse_id"),
        (row.warehouse_code if per_warehouse else cast(no_warehouse, Text)).label("warehouse_code"),
        decimal_text(row.on_hand, Quantity).label("on_hand"),
        decimal_text(row.reserved, Quantity).label("reserved"),
        decimal_text(available, Quantity).label("available"),
        decimal_text(for_sale, Quantity).label("available_for_sale"),
        timestamp_text(row.updated_at).label("updated_at"),
    ]


_PER_WAREHOUSE = KeysetQuery(
    select(
        Stock.id,
        Stock.item_id,
        Item.sku,
        Stock.warehouse_id,
        Warehouse.code.label("warehouse_code"),
        Stock.on_hand,
        Stock.reserved,
        Item.safety_stock,
        Stock.updated_at,
    )
    .join(Item, Item.id == Stock.item_id)
    .join(Warehouse, Warehouse.id == Stock.warehouse_id),
    stamp=Stock.updated_at,
    ident=Stock.id,
    filters={
        "skus": lambda value: Item.sku == func.any(cast(value, ARRAY(String))),
        "warehouse_id": lambda value: Stock.warehouse_id == value,
    },
    render=lambda row: _stock_level(row, per_warehouse=True),
)

# One row per item, summed over its warehouses. Grouping by the item's own columns lets
# PostgreSQL apply an SKU filter before it sums.
_SUMMED = (
    select(
        Item.id.label("id"),
        Item.id.label("item_id"),
        Item.sku,
        Item.safety_stock,
        func.coalesce(func.sum(Stock.on_hand), 0).label("on_hand"),
        func.coalesce(func.sum(Stock.reserved), 0).label("reserved"),
        func.greatest(Item.updated_at, func.max(Stock.updated_at)).label("updated_at"),
    )
    .outerjoin(Stock, Stock.item_id == Item.id)
    .group_by(Item.id, Item.sku, Item.safety_stock, Item.updated_at)
    .subquery()
)
_SUMMED_QUERY = KeysetQuery(
    select(*_SUMMED.c),
    stamp=_SUMMED.c.updated_at,
    ident=_SUMMED.c.id,
    filters={"skus": lambda value: _SUMMED.c.sku == func.any(cast(value, ARRAY(String)))},
    render=lambda row: _stock_level(row, per_warehouse=False),
)


async def stock_page(
    reader: AsyncConnection,
    page: PageRequest,
    *,
    skus: Sequence[str] | None,
    warehouse_id: uuid.UUID | None,
    per_warehouse: bool,
) -> tuple[str, str | None]:
    """Stock levels as the JSON text of a page's objects (comma-separated), and the cursor."""
    skus = list(skus) if skus else None
    if per_warehouse or warehouse_id is not None:
        return await _PER_WAREHOUSE.json_page(reader, page, skus=skus, warehouse_id=warehouse_id)
    return await _SUMMED_QUERY.json_page(reader, page, skus=skus)


_LOW = (
    select(
        Item.id,
        Item.sku,
        Item.name,
        Item.reorder_point,
        Item.updated_at,
        func.coalesce(func.sum(Stock.on_hand - Stock.reserved), 0).label("available"),
    )
    .outerjoin(Stock, Stock.item_id == Item.id)
    .where(Item.is_active, Item.reorder_point.is_not(None))
    .group_by(Item.id)
    .having(func.coalesce(func.sum(Stock.on_hand - Stock.reserved), 0) <= Item.reorder_point)
    .subquery()
)
_LOW_QUERY = KeysetQuery(select(*_LOW.c), stamp=_LOW.c.updated_at, ident=_LOW.c.id)


async def low_stock(
    reader: AsyncConnection, page: PageRequest
) -> tuple[list[dict[str, Any]], str | None]:
    return await _LOW_QUERY.page(reader, page)


# The ledger ------------------------------------------------------------------------------------

_LINES = (
    select(
        func.coalesce(
            func.jsonb_agg(
                aggregate_order_by(
                    func.jsonb_build_object(
                        "item_id",
                        MovementLine.item_id,
                        "warehouse_id",
                        MovementLine.warehouse_id,
                        "on_hand_delta",
                        MovementLine.on_hand_delta,
                        "reserved_delta",
                        MovementLine.reserved_delta,
                    ),
                    MovementLine.id,
                )
            ),
            literal_column("'[]'::jsonb", JSONB),
        )
    )
    .where(MovementLine.movement_id == Movement.id)
    .scalar_subquery()
    .label("lines")
)
_MOVEMENT_ROW = select(*Movement.__table__.c, Item.sku, _LINES).outerjoin(
    Item, Item.id == Movement.item_id
)
_MOVEMENTS = KeysetQuery(
    _MOVEMENT_ROW,
    stamp=Movement.created_at,
    ident=Movement.id,
    filters={
        "item_id": lambda value: Movement.item_id == value,
        "kind": lambda value: Movement.kind == value,
        "warehouse_id": lambda value: (
            select(MovementLine.id)
            .where(MovementLine.movement_id == Movement.id, MovementLine.warehouse_id == value)
            .exists()
        ),
    },
)
_MOVEMENT_BY_ID = Prepared(_MOVEMENT_ROW.where(Movement.id == bindparam("movement_id")))


async def movement_row(reader: AsyncConnection, movement_id: uuid.UUID) -> dict[str, Any] | None:
    return await _MOVEMENT_BY_ID.one_or_none(reader, movement_id=movement_id)


async def movement_rows(
    reader: AsyncConnection,
    page: PageRequest,
    *,
    item_id: uuid.UUID | None,
    warehouse_id: uuid.UUID | None,
    kind: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    return await _MOVEMENTS.page(
        reader, page, item_id=item_id, warehouse_id=warehouse_id, kind=kind
    )


# What orders do to balances -------------------------------------------------------------------

_ITEMS_BY_SKU = Prepared(
    select(Item.id, Item.sku, Item.name, Item.is_active, Item.vat_category, Item.unit_code).where(
        Item.sku == func.any(bindparam("skus", type_=ARRAY(String)))
    )
)

_LOCK_BALANCES = Prepared(
    text(
        "SELECT item_id, on_hand, reserved FROM inventory_stock "
        "WHERE warehouse_id = :warehouse_id AND item_id = ANY(:item_ids) "
        "ORDER BY item_id FOR UPDATE"
    ).bindparams(bindparam("item_ids", type_=ARRAY(Uuid)), bindparam("warehouse_id", type_=Uuid))
)

_APPLY_DELTAS = Prepared(
    text(
        "UPDATE inventory_stock AS s "
        "SET on_hand = s.on_hand + d.on_hand_delta, reserved = s.reserved + d.reserved_delta, "
        "updated_at = now() "
        "FROM unnest(:item_ids, :on_hand_deltas, :reserved_deltas) "
        "AS d(item_id, on_hand_delta, reserved_delta) "
        "WHERE s.warehouse_id = :warehouse_id AND s.item_id = d.item_id "
        "RETURNING s.item_id, s.on_hand, s.reserved"
    ).bindparams(
        bindparam("item_ids", type_=ARRAY(Uuid)),
        bindparam("on_hand_deltas", type_=ARRAY(Numeric(18, 3))),
        bindparam("reserved_deltas", type_=ARRAY(Numeric(18, 3))),
        bindparam("warehouse_id", type_=Uuid),
    )
)


async def items_by_sku(session: AsyncSession, skus: Sequence[str]) -> dict[str, dict[str, Any]]:
    rows = await _ITEMS_BY_SKU.all(session, skus=list(skus))
    return {row["sku"]: row for row in rows}


async def lock_balances(
    session: AsyncSession, warehouse_id: uuid.UUID, item_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[Decimal, Decimal]]:
    """(on_hand, reserved) of each item that has a balance there, locked in item-id order, so
    that two orders sharing items wait for each other instead of deadlocking."""
    rows = await _LOCK_BALANCES.all(session, warehouse_id=warehouse_id, item_ids=sorted(item_ids))
    return {row["item_id"]: (row["on_hand"], row["reserved"]) for row in rows}


async def apply_deltas(
    session: AsyncSession,
    warehouse_id: uuid.UUID,
    deltas: Sequence[tuple[uuid.UUID, Decimal, Decimal]],
) -> dict[uuid.UUID, tuple[Decimal, Decimal]]:
    """Adds (item, on-hand delta, reserved delta) to balances already locked by
    `lock_balances`, in one statement; returns the new (on_hand, reserved) per item."""
    rows = await _APPLY_DELTAS.all(
        session,
        warehouse_id=warehouse_id,
        item_ids=[d[0] for d in deltas],
        on_hand_deltas=[d[1] for d in deltas],
        reserved_deltas=[d[2] for d in deltas],
    )
    return {row["item_id"]: (row["on_hand"], row["reserved"]) for row in rows}
