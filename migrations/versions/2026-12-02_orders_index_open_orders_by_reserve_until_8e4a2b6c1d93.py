"""orders: open orders indexed by when their reservation runs out (the worker expires them)

Revision ID: 8e4a2b6c1d93
Revises: 7c1d9e3f2a60
Create Date: 2026-12-02 13:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8e4a2b6c1d93"
down_revision: str | Sequence[str] | None = "7c1d9e3f2a60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_orders_order_open_reserve_until",
        "orders_order",
        ["reserve_until"],
        postgresql_where=sa.text(
            "reserve_until IS NOT NULL AND status IN ('reserved', 'partially_shipped')"
        ),
    )


def downgrade() -> None:
    op.drop_index("ix_orders_order_open_reserve_until", table_name="orders_order")
