"""inventory: an item's weight holds every quantity the contract allows (NUMERIC(18, 3))

Revision ID: 5b8e2d41c7a9
Revises: 421952d43d98
Create Date: 2026-12-02 06:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b8e2d41c7a9"
down_revision: str | Sequence[str] | None = "421952d43d98"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Widening a numeric's precision rewrites nothing and loses nothing.
    op.alter_column(
        "inventory_item",
        "weight_kg",
        existing_type=sa.Numeric(precision=12, scale=3),
        type_=sa.Numeric(precision=18, scale=3),
        existing_nullable=True,
    )


def downgrade() -> None:
    # Fails, changing nothing, if a stored weight no longer fits.
    op.alter_column(
        "inventory_item",
        "weight_kg",
        existing_type=sa.Numeric(precision=18, scale=3),
        type_=sa.Numeric(precision=12, scale=3),
        existing_nullable=True,
    )
