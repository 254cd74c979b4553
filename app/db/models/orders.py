"""Sales orders from the webshop and from sales staff, their lines, and per-client settings.

The database keeps what money and stock depend on: one order per client and external order
id (a unique constraint, so a retried order is never booked twice), shipped quantities within
what was ordered, known statuses. Stock itself is reserved and issued by the inventory area.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps

Money = Numeric(18, 2)
Quantity = Numeric(18, 3)
ORDER_STATUSES = ("reserved", "partially_shipped", "fulfilled", "cancelled", "expired")
OPEN_STATUSES = ("reserved", "partially_shipped")


class Order(Timestamps, Base):
    __tablename__ = "orders_order"
    __table_args__ = (
        UniqueConstraint("placed_by", "external_id"),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in ORDER_STATUSES) + ")",
            name="known_status",
        ),
        CheckConstraint("gross_total = net_total + vat_total", name="gross_is_net_plus_vat"),
        Index(None, "updated_at", "id"),
        Index(None, "placed_by", "updated_at", "id"),
        # The worker's look for reservations that have run out.
        Index(
            "ix_orders_order_open_reserve_until",
            "reserve_until",
            postgresql_where=text(
                "reserve_until IS NOT NULL AND status IN ("
                + ", ".join(f"'{s}'" for s in OPEN_STATUSES)
                + ")"
            ),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # The principal that placed the order: an integration client (it alone may see it) or a
    # person of the sales staff.
    placed_by: Mapped[uuid.UUID]
    placed_by_client: Mapped[bool]
    external_id: Mapped[str | None] = mapped_column(String(100))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partners_partner.id"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inventory_warehouse.id"))
    status: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    ship_to_name: Mapped[str] = mapped_column(String(200))
    ship_to_street: Mapped[str] = mapped_column(String(200))
    ship_to_postal_code: Mapped[str] = mapped_column(String(20))
    ship_to_city: Mapped[str] = mapped_column(String(100))
    ship_to_country: Mapped[str] = mapped_column(String(2))
    net_total: Mapped[Decimal] = mapped_column(Money)
    vat_total: Mapped[Decimal] = mapped_column(Money)
    gross_total: Mapped[Decimal] = mapped_column(Money)
    vat_breakdown: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    reserve_until: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(server_default=text("1"))


class OrderLine(Base):
    __tablename__ = "orders_order_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("shipped >= 0 AND shipped <= quantity", name="shipped_within_quantity"),
        CheckConstraint("unit_price >= 0", name="price_not_negative"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders_order.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inventory_item.id"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    shipped: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    vat_category: Mapped[str] = mapped_column(String(10))
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    net_amount: Mapped[Decimal] = mapped_column(Money)


class SalesChannel(Timestamps, Base):
    """An integration client's order settings: the warehouse its orders ship from by default."""

    __tablename__ = "orders_channel"

    client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_principal.id", ondelete="CASCADE"), primary_key=True
    )
    default_warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inventory_warehouse.id"))
