"""idempotency: withhold one-time secrets

Revision ID: 431f4ffa999e
Revises: 6a99c5714338
Create Date: 2026-11-22 09:00:42.924543
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "431f4ffa999e"
down_revision: str | Sequence[str] | None = "6a99c5714338"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "api_idempotency_key",
        sa.Column(
            "response_withheld", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
    )


def downgrade() -> None:
    op.drop_column("api_idempotency_key", "response_withheld")
