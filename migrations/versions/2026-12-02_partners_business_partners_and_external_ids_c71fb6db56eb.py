"""partners: business partners and their external ids

Revision ID: c71fb6db56eb
Revises: 4011ad8cfabb
Create Date: 2026-12-02 01:05:06.037241

The one shared record of customers and suppliers, and the ids integration clients (a webshop)
know them by. The database keeps what the API promises: every partner has a role, a VAT id is
stored compact, an address is complete or absent, and an external id is unique per client.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c71fb6db56eb"
down_revision: str | Sequence[str] | None = "4011ad8cfabb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _address_complete(kind: str) -> str:
    """An address is there with street, city and country, or not at all (no stray parts)."""
    return (
        f"num_nulls({kind}_street, {kind}_city, {kind}_country) IN (0, 3)"
        f" AND ({kind}_street IS NOT NULL"
        f" OR ({kind}_street2 IS NULL AND {kind}_postal_code IS NULL))"
        f" AND {kind}_country ~ '^[A-Z]{{2}}$'"
    )


def upgrade() -> None:
    op.create_table(
        "partners_partner",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("is_customer", sa.Boolean(), nullable=False),
        sa.Column("is_supplier", sa.Boolean(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("vat_id", sa.String(length=20), nullable=True),
        sa.Column("billing_street", sa.String(length=200), nullable=True),
        sa.Column("billing_street2", sa.String(length=200), nullable=True),
        sa.Column("billing_postal_code", sa.String(length=16), nullable=True),
        sa.Column("billing_city", sa.String(length=100), nullable=True),
        sa.Column("billing_country", sa.String(length=2), nullable=True),
        sa.Column("shipping_street", sa.String(length=200), nullable=True),
        sa.Column("shipping_street2", sa.String(length=200), nullable=True),
        sa.Column("shipping_postal_code", sa.String(length=16), nullable=True),
        sa.Column("shipping_city", sa.String(length=100), nullable=True),
        sa.Column("shipping_country", sa.String(length=2), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
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
            _address_complete("billing"),
            name=op.f("ck_partners_partner_billing_address_complete"),
        ),
        sa.CheckConstraint(
            _address_complete("shipping"),
            name=op.f("ck_partners_partner_shipping_address_complete"),
        ),
        sa.CheckConstraint(
            "vat_id ~ '^[A-Z]{2}[0-9A-Z+*]{2,18}$'", name=op.f("ck_partners_partner_vat_id_compact")
        ),
        sa.CheckConstraint(
            "is_customer OR is_supplier", name=op.f("ck_partners_partner_has_a_role")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["auth_principal.id"],
            name=op.f("fk_partners_partner_created_by_auth_principal"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners_partner")),
    )
    # Clients see the partners they created: the index behind that condition.
    op.create_index(
        op.f("ix_partners_partner_created_by"), "partners_partner", ["created_by"], unique=False
    )
    # Keyset paging and `updated_since` of the list.
    op.create_index(
        op.f("ix_partners_partner_updated_at"),
        "partners_partner",
        ["updated_at", "id"],
        unique=False,
    )
    op.create_table(
        "partners_external_id",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            # 1-100 visible ASCII characters; one URL path segment (no "/", no leading ".").
            "external_id ~ '^[!-~]{1,100}$' AND strpos(external_id, '/') = 0"
            " AND left(external_id, 1) <> '.'",
            name=op.f("ck_partners_external_id_external_id_visible_ascii"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["auth_principal.id"],
            name=op.f("fk_partners_external_id_client_id_auth_principal"),
            ondelete="CASCADE",
        ),
        # Deferred to the commit: an upsert claims the external id (INSERT ... ON CONFLICT, the
        # guard against creating a partner twice) before it inserts the partner it names.
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners_partner.id"],
            name=op.f("fk_partners_external_id_partner_id_partners_partner"),
            ondelete="CASCADE",
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("client_id", "external_id", name=op.f("pk_partners_external_id")),
        sa.UniqueConstraint(
            "partner_id", "client_id", name=op.f("uq_partners_external_id_partner_id_client_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("partners_external_id")
    op.drop_index(op.f("ix_partners_partner_updated_at"), table_name="partners_partner")
    op.drop_index(op.f("ix_partners_partner_created_by"), table_name="partners_partner")
    op.drop_table("partners_partner")
