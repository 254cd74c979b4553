"""Accounting: each fiscal year's counter row also keeps the last entry's hash and the closed
months, so a posting reads both from the row it locks (as of the moment the lock is its own)
and numbers, chains and posts an entry in one statement.

Revision ID: b95354cd58ad
Revises: 525ee45e5967
Create Date: 2026-12-03 10:37:50.708974
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b95354cd58ad"
down_revision: str | Sequence[str] | None = "525ee45e5967"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "accounting_fiscal_year",
        sa.Column("last_hash", sa.String(length=64), server_default=sa.text("''"), nullable=False),
    )
    op.add_column(
        "accounting_fiscal_year",
        sa.Column(
            "closed_months",
            sa.ARRAY(sa.Date()),
            server_default=sa.text("'{}'::date[]"),
            nullable=False,
        ),
    )
    op.execute(
        """
        UPDATE accounting_fiscal_year y
           SET last_hash = coalesce((SELECT hash FROM accounting_journal_entry
                                      WHERE fiscal_year = y.year AND number = y.last_number), ''),
               closed_months = coalesce((SELECT array_agg(starts_on ORDER BY starts_on)
                                           FROM accounting_period
                                          WHERE fiscal_year = y.year AND closed_at IS NOT NULL),
                                        '{}')
        """
    )


def downgrade() -> None:
    op.drop_column("accounting_fiscal_year", "closed_months")
    op.drop_column("accounting_fiscal_year", "last_hash")
