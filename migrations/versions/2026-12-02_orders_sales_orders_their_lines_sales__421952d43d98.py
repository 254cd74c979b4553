"""orders: sales orders, their lines, and each integration client's default warehouse

Revision ID: 421952d43d98
Revises: c71fb6db56eb
Create Date: 2026-12-02 01:29:51.859280
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "421952d43d98"
down_revision: str | Sequence[str] | None = "c71fb6db56eb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "orders_channel",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("default_warehouse_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["auth_principal.id"],
            name=op.f("fk_orders_channel_client_id_auth_principal"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["default_warehouse_id"],
            ["inventory_warehouse.id"],
            name=op.f("fk_orders_channel_default_warehouse_id_inventory_warehouse"),
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_orders_channel")),
    )
    op.create_table(
        "orders_order",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("placed_by", sa.Uuid(), nullable=False),
        sa.Column("placed_by_client", sa.Boolean(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("warehouse_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("ship_to_name", sa.String(length=200), nullable=False),
        sa.Column("ship_to_street", sa.String(length=200), nullable=False),
        sa.Column("ship_to_postal_code", sa.String(length=20), nullable=False),
        sa.Column("ship_to_city", sa.String(length=100), nullable=False),
        sa.Column("ship_to_country", sa.String(length=2), nullable=False),
        sa.Column("net_total", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("vat_total", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("gross_total", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("vat_breakdown", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reserve_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('reserved', 'partially_shipped', 'fulfilled', 'cancelled', 'expired')",
            name=op.f("ck_orders_order_known_status"),
        ),
        sa.CheckConstraint(
            "gross_total = net_total + vat_total",
            name=op.f("ck_orders_order_gross_is_net_plus_vat"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["partners_partner.id"],
            name=op.f("fk_orders_order_customer_id_partners_partner"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["inventory_warehouse.id"],
            name=op.f("fk_orders_order_warehouse_id_inventory_warehouse"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_order")),
        sa.UniqueConstraint(
            "placed_by", "external_id", name=op.f("uq_orders_order_placed_by_external_id")
        ),
    )
    op.create_index(
        op.f("ix_orders_order_placed_by"),
        "orders_order",
        ["placed_by", "updated_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_orders_order_updated_at"), "orders_order", ["updated_at", "id"], unique=False
    )
    op.create_table(
        "orders_order_line",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column(
            "shipped",
            sa.Numeric(precision=18, scale=3),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("unit_price", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("vat_category", sa.String(length=10), nullable=False),
        sa.Column("vat_rate", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("net_amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_orders_order_line_quantity_positive")),
        sa.CheckConstraint(
            "shipped >= 0 AND shipped <= quantity",
            name=op.f("ck_orders_order_line_shipped_within_quantity"),
        ),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_orders_order_line_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["inventory_item.id"],
            name=op.f("fk_orders_order_line_item_id_inventory_item"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders_order.id"],
            name=op.f("fk_orders_order_line_order_id_orders_order"),
        ),
        sa.PrimaryKeyConstraint("order_id", "line_no", name=op.f("pk_orders_order_line")),
    )


def downgrade() -> None:
    op.drop_table("orders_order_line")
    op.drop_index(op.f("ix_orders_order_updated_at"), table_name="orders_order")
    op.drop_index(op.f("ix_orders_order_placed_by"), table_name="orders_order")
    op.drop_table("orders_order")
    op.drop_table("orders_channel")
