"""The catalogue (items, warehouses), the stock balance per item and warehouse, and the stock
ledger it is rebuilt from.

The database keeps the invariants stock depends on: neither `on_hand` nor `reserved` goes
negative and nothing is reserved that is not on hand (CHECK constraints), and ledger rows are
never changed or deleted (triggers, see the migration). Every change to a balance is booked in
the same transaction as a movement whose lines carry the deltas, so the ledger sums to the
balance.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps

Quantity = Numeric(18, 3)
Money = Numeric(18, 2)


class Item(Timestamps, Base):
    __tablename__ = "inventory_item"
    __table_args__ = (
        CheckConstraint("sku = btrim(sku) AND sku <> ''", name="sku_trimmed"),
        CheckConstraint("net_price >= 0", name="price_not_negative"),
        CheckConstraint("vat_category IN ('standard', 'reduced', 'zero')", name="vat_category"),
        CheckConstraint("reorder_point >= 0 AND safety_stock >= 0", name="levels_not_negative"),
        CheckConstraint("weight_kg > 0", name="weight_positive"),
        Index(None, "updated_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, server_default="")
    unit_code: Mapped[str] = mapped_column(String(3))
    gtin: Mapped[str | None] = mapped_column(String(14))
    net_price: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    vat_category: Mapped[str] = mapped_column(String(10))
    reorder_point: Mapped[Decimal | None] = mapped_column(Quantity)
    safety_stock: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))
    weight_kg: Mapped[Decimal | None] = mapped_column(Quantity)
    hs_code: Mapped[str | None] = mapped_column(String(10))
    country_of_origin: Mapped[str | None] = mapped_column(String(2))
    is_active: Mapped[bool] = mapped_column(server_default=text("true"))
    version: Mapped[int] = mapped_column(server_default=text("1"))

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012


class Warehouse(Timestamps, Base):
    __tablename__ = "inventory_warehouse"
    __table_args__ = (
        CheckConstraint("code = btrim(code) AND code <> ''", name="code_trimmed"),
        Index(None, "updated_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    street: Mapped[str] = mapped_column(String(200), server_default="")
    postal_code: Mapped[str] = mapped_column(String(20), server_default="")
    city: Mapped[str] = mapped_column(String(100), server_default="")
    country: Mapped[str] = mapped_column(String(2))
    is_active: Mapped[bool] = mapped_column(server_default=text("true"))
    version: Mapped[int] = mapped_column(server_default=text("1"))

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012


class Stock(Base):
    """The balance of one item in one warehouse; changed only together with ledger lines."""

    __tablename__ = "inventory_stock"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
        Index(None, "updated_at", "id"),
        Index(None, "warehouse_id"),
    )

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inventory_item.id"), primary_key=True)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("inventory_warehouse.id"), primary_key=True
    )
    # A row id of its own, for keyset paging and as the subject of stock events.
    id: Mapped[uuid.UUID] = mapped_column(unique=True, server_default=text("gen_random_uuid()"))
    on_hand: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))
    reserved: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Movement(Base):
    """One booking: a receipt, issue, transfer, adjustment or count of one item, or what an
    order did to stock (reserving, shipping, releasing its lines). Its lines say what it did to
    which balance. Never changed."""

    __tablename__ = "inventory_movement"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('receipt', 'issue', 'transfer', 'adjustment', 'count', "
            "'reservation', 'shipment', 'release')",
            name="known_kind",
        ),
        CheckConstraint("item_id IS NOT NULL OR order_id IS NOT NULL", name="has_subject"),
        Index(None, "created_at", "id"),
        Index(None, "item_id", "created_at"),
        Index(None, "order_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    # The item of a single-item booking; NULL for an order's, whose lines name the items.
    item_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inventory_item.id"))
    order_id: Mapped[uuid.UUID | None]
    quantity: Mapped[Decimal | None] = mapped_column(Quantity)
    reason: Mapped[str | None] = mapped_column(String(500))
    reference: Mapped[str | None] = mapped_column(String(100))
    counted: Mapped[Decimal | None] = mapped_column(Quantity)
    expected: Mapped[Decimal | None] = mapped_column(Quantity)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.clock_timestamp())


class MovementLine(Base):
    """What a movement did to one balance: the ledger that `inventory_stock` sums up."""

    __tablename__ = "inventory_movement_line"
    __table_args__ = (
        CheckConstraint("on_hand_delta <> 0 OR reserved_delta <> 0", name="changes_something"),
        Index(None, "movement_id"),
        Index(None, "item_id", "warehouse_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    movement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inventory_movement.id"))
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inventory_item.id"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inventory_warehouse.id"))
    on_hand_delta: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))
    reserved_delta: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))
