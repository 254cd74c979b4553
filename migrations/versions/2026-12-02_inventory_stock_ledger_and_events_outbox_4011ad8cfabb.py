"""inventory: catalogue, stock balances, the stock ledger; the events outbox

Revision ID: 4011ad8cfabb
Revises: 9d3c1e7a5b20
Create Date: 2026-12-02 00:58:49.507953
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "4011ad8cfabb"
down_revision: str | Sequence[str] | None = "9d3c1e7a5b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# GoBD: a stock booking is never changed or removed; a correction is a new movement.
APPEND_ONLY_FUNCTION = """
CREATE FUNCTION inventory_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""
APPEND_ONLY_TABLES = ("inventory_movement", "inventory_movement_line")


def upgrade() -> None:
    op.create_table(
        "events_outbox",
        sa.Column("position", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column(
            "txid",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id()::text)::bigint"),
            nullable=False,
        ),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("owner_ids", postgresql.ARRAY(sa.Uuid()), nullable=True),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_events_outbox")),
    )
    op.create_index(
        op.f("ix_events_outbox_txid"), "events_outbox", ["txid", "position"], unique=False
    )
    op.create_table(
        "inventory_item",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("unit_code", sa.String(length=3), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("net_price", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("vat_category", sa.String(length=10), nullable=False),
        sa.Column("reorder_point", sa.Numeric(precision=18, scale=3), nullable=True),
        sa.Column(
            "safety_stock",
            sa.Numeric(precision=18, scale=3),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("weight_kg", sa.Numeric(precision=12, scale=3), nullable=True),
        sa.Column("hs_code", sa.String(length=10), nullable=True),
        sa.Column("country_of_origin", sa.String(length=2), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
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
            "sku = btrim(sku) AND sku <> ''", name=op.f("ck_inventory_item_sku_trimmed")
        ),
        sa.CheckConstraint(
            "vat_category IN ('standard', 'reduced', 'zero')",
            name=op.f("ck_inventory_item_vat_category"),
        ),
        sa.CheckConstraint("net_price >= 0", name=op.f("ck_inventory_item_price_not_negative")),
        sa.CheckConstraint(
            "reorder_point >= 0 AND safety_stock >= 0",
            name=op.f("ck_inventory_item_levels_not_negative"),
        ),
        sa.CheckConstraint("weight_kg > 0", name=op.f("ck_inventory_item_weight_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_item")),
        sa.UniqueConstraint("sku", name=op.f("uq_inventory_item_sku")),
    )
    op.create_index(
        op.f("ix_inventory_item_updated_at"), "inventory_item", ["updated_at", "id"], unique=False
    )
    op.create_table(
        "inventory_warehouse",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("street", sa.String(length=200), server_default="", nullable=False),
        sa.Column("postal_code", sa.String(length=20), server_default="", nullable=False),
        sa.Column("city", sa.String(length=100), server_default="", nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
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
            "code = btrim(code) AND code <> ''", name=op.f("ck_inventory_warehouse_code_trimmed")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_warehouse")),
        sa.UniqueConstraint("code", name=op.f("uq_inventory_warehouse_code")),
    )
    op.create_index(
        op.f("ix_inventory_warehouse_updated_at"),
        "inventory_warehouse",
        ["updated_at", "id"],
        unique=False,
    )
    op.create_table(
        "inventory_movement",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("quantity", sa.Numeric(precision=18, scale=3), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("counted", sa.Numeric(precision=18, scale=3), nullable=True),
        sa.Column("expected", sa.Numeric(precision=18, scale=3), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "item_id IS NOT NULL OR order_id IS NOT NULL",
            name=op.f("ck_inventory_movement_has_subject"),
        ),
        sa.CheckConstraint(
            "kind IN ('receipt', 'issue', 'transfer', 'adjustment', 'count', "
            "'reservation', 'shipment', 'release')",
            name=op.f("ck_inventory_movement_known_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["inventory_item.id"],
            name=op.f("fk_inventory_movement_item_id_inventory_item"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_movement")),
    )
    op.create_index(
        op.f("ix_inventory_movement_created_at"),
        "inventory_movement",
        ["created_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_inventory_movement_item_id"),
        "inventory_movement",
        ["item_id", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_inventory_movement_order_id"), "inventory_movement", ["order_id"], unique=False
    )
    op.create_table(
        "inventory_stock",
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("warehouse_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "on_hand",
            sa.Numeric(precision=18, scale=3),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "reserved",
            sa.Numeric(precision=18, scale=3),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_inventory_stock_on_hand_not_negative")),
        sa.CheckConstraint(
            "reserved <= on_hand", name=op.f("ck_inventory_stock_reserved_within_on_hand")
        ),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_inventory_stock_reserved_not_negative")),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["inventory_item.id"],
            name=op.f("fk_inventory_stock_item_id_inventory_item"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["inventory_warehouse.id"],
            name=op.f("fk_inventory_stock_warehouse_id_inventory_warehouse"),
        ),
        sa.PrimaryKeyConstraint("item_id", "warehouse_id", name=op.f("pk_inventory_stock")),
        sa.UniqueConstraint("id", name=op.f("uq_inventory_stock_id")),
    )
    op.create_index(
        op.f("ix_inventory_stock_updated_at"), "inventory_stock", ["updated_at", "id"], unique=False
    )
    op.create_index(
        op.f("ix_inventory_stock_warehouse_id"), "inventory_stock", ["warehouse_id"], unique=False
    )
    op.create_table(
        "inventory_movement_line",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("movement_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("warehouse_id", sa.Uuid(), nullable=False),
        sa.Column(
            "on_hand_delta",
            sa.Numeric(precision=18, scale=3),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "reserved_delta",
            sa.Numeric(precision=18, scale=3),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "on_hand_delta <> 0 OR reserved_delta <> 0",
            name=op.f("ck_inventory_movement_line_changes_something"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["inventory_item.id"],
            name=op.f("fk_inventory_movement_line_item_id_inventory_item"),
        ),
        sa.ForeignKeyConstraint(
            ["movement_id"],
            ["inventory_movement.id"],
            name=op.f("fk_inventory_movement_line_movement_id_inventory_movement"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["inventory_warehouse.id"],
            name=op.f("fk_inventory_movement_line_warehouse_id_inventory_warehouse"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_movement_line")),
    )
    op.create_index(
        op.f("ix_inventory_movement_line_item_id"),
        "inventory_movement_line",
        ["item_id", "warehouse_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_inventory_movement_line_movement_id"),
        "inventory_movement_line",
        ["movement_id"],
        unique=False,
    )
    op.execute(APPEND_ONLY_FUNCTION)
    for table in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION inventory_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION inventory_refuse_change()"
        )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_inventory_movement_line_movement_id"), table_name="inventory_movement_line"
    )
    op.drop_index(op.f("ix_inventory_movement_line_item_id"), table_name="inventory_movement_line")
    op.drop_table("inventory_movement_line")
    op.drop_index(op.f("ix_inventory_stock_warehouse_id"), table_name="inventory_stock")
    op.drop_index(op.f("ix_inventory_stock_updated_at"), table_name="inventory_stock")
    op.drop_table("inventory_stock")
    op.drop_index(op.f("ix_inventory_movement_order_id"), table_name="inventory_movement")
    op.drop_index(op.f("ix_inventory_movement_item_id"), table_name="inventory_movement")
    op.drop_index(op.f("ix_inventory_movement_created_at"), table_name="inventory_movement")
    op.drop_table("inventory_movement")
    op.drop_index(op.f("ix_inventory_warehouse_updated_at"), table_name="inventory_warehouse")
    op.drop_table("inventory_warehouse")
    op.drop_index(op.f("ix_inventory_item_updated_at"), table_name="inventory_item")
    op.drop_table("inventory_item")
    op.drop_index(op.f("ix_events_outbox_txid"), table_name="events_outbox")
    op.drop_table("events_outbox")
    op.execute("DROP FUNCTION inventory_refuse_change()")
