"""accounting: the company and its chart of accounts

Revision ID: 8e01085bb703
Revises: d7febed2fd96
Create Date: 2026-12-02 18:40:46.952037
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8e01085bb703"
down_revision: str | Sequence[str] | None = "d7febed2fd96"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounting_account",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("tax_key", sa.String(length=10), nullable=True),
        sa.Column("report_group", sa.String(length=100), nullable=False),
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
            "number ~ '^[0-9]{4,8}$'", name=op.f("ck_accounting_account_number_digits")
        ),
        sa.CheckConstraint(
            "type IN ('asset', 'liability', 'equity', 'income', 'expense')",
            name=op.f("ck_accounting_account_known_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_account")),
        sa.UniqueConstraint("number", name=op.f("uq_accounting_account_number")),
    )
    op.create_index(
        op.f("ix_accounting_account_updated_at"),
        "accounting_account",
        ["updated_at", "id"],
        unique=False,
    )
    op.create_table(
        "accounting_company",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("street", sa.String(length=200), nullable=False),
        sa.Column("postal_code", sa.String(length=16), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("tax_number", sa.String(length=20), nullable=True),
        sa.Column("vat_id", sa.String(length=20), nullable=True),
        sa.Column("fiscal_year_start_month", sa.SmallInteger(), nullable=False),
        sa.Column("base_currency", sa.String(length=3), nullable=False),
        sa.Column("chart", sa.String(length=10), nullable=False),
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
            "base_currency ~ '^[A-Z]{3}$'", name=op.f("ck_accounting_company_currency_code")
        ),
        sa.CheckConstraint(
            "chart IN ('skr03', 'skr04', 'generic')", name=op.f("ck_accounting_company_known_chart")
        ),
        sa.CheckConstraint(
            "country ~ '^[A-Z]{2}$'", name=op.f("ck_accounting_company_country_code")
        ),
        sa.CheckConstraint(
            "fiscal_year_start_month BETWEEN 1 AND 12", name=op.f("ck_accounting_company_month")
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_accounting_company_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_company")),
    )


def downgrade() -> None:
    op.drop_table("accounting_company")
    op.drop_index(op.f("ix_accounting_account_updated_at"), table_name="accounting_account")
    op.drop_table("accounting_account")
