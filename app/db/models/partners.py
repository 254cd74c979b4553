"""Business partners (customers and suppliers) and the ids integration clients know them by."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps


def _address_complete(kind: str) -> str:
    """An address is there with street, city and country, or not at all."""
    return (
        f"num_nulls({kind}_street, {kind}_city, {kind}_country) IN (0, 3)"
        f" AND ({kind}_street IS NOT NULL"
        f" OR ({kind}_street2 IS NULL AND {kind}_postal_code IS NULL))"
        f" AND {kind}_country ~ '^[A-Z]{{2}}$'"
    )


class Partner(Timestamps, Base):
    """One customer or supplier (or both), shared by every area: accounting, credit risk and
    the front desk extend it by their own tables, never by copies."""

    __tablename__ = "partners_partner"
    __table_args__ = (
        CheckConstraint("is_customer OR is_supplier", name="has_a_role"),
        CheckConstraint("vat_id ~ '^[A-Z]{2}[0-9A-Z+*]{2,18}$'", name="vat_id_compact"),
        CheckConstraint(_address_complete("billing"), name="billing_address_complete"),
        CheckConstraint(_address_complete("shipping"), name="shipping_address_complete"),
        Index(None, "updated_at", "id"),
        Index(None, "created_by"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    is_customer: Mapped[bool]
    is_supplier: Mapped[bool]
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    vat_id: Mapped[str | None] = mapped_column(String(20))
    billing_street: Mapped[str | None] = mapped_column(String(200))
    billing_street2: Mapped[str | None] = mapped_column(String(200))
    billing_postal_code: Mapped[str | None] = mapped_column(String(16))
    billing_city: Mapped[str | None] = mapped_column(String(100))
    billing_country: Mapped[str | None] = mapped_column(String(2))
    shipping_street: Mapped[str | None] = mapped_column(String(200))
    shipping_street2: Mapped[str | None] = mapped_column(String(200))
    shipping_postal_code: Mapped[str | None] = mapped_column(String(16))
    shipping_city: Mapped[str | None] = mapped_column(String(100))
    shipping_country: Mapped[str | None] = mapped_column(String(2))
    is_active: Mapped[bool] = mapped_column(server_default=text("true"))
    # The person or client that created it; NULL when the system did (demo data, imports).
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("auth_principal.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(server_default=text("1"))

    # eager_defaults: server-set columns (updated_at) come back by RETURNING, no re-read.
    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012


class PartnerExternalId(Base):
    """An integration client's own id for a partner (its shop's customer number): one per
    client and partner, unique per client. Two clients' equal ids are two different keys."""

    __tablename__ = "partners_external_id"
    __table_args__ = (
        UniqueConstraint("partner_id", "client_id"),
        # 1-100 visible ASCII characters, one URL path segment: see rules.EXTERNAL_ID_PATTERN.
        CheckConstraint(
            "external_id ~ '^[!-~]{1,100}$' AND strpos(external_id, '/') = 0"
            " AND left(external_id, 1) <> '.'",
            name="external_id_visible_ascii",
        ),
    )

    client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_principal.id", ondelete="CASCADE"), primary_key=True
    )
    external_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    # Deferred: an upsert claims the external id first (INSERT ... ON CONFLICT, the guard
    # against two creations) and inserts the partner it names afterwards, in one transaction.
    partner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("partners_partner.id", ondelete="CASCADE", deferrable=True, initially="DEFERRED")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
