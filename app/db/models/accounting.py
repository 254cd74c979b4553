"""Accounting: the company the books are kept for, and its chart of accounts."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, Index, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps

ACCOUNT_TYPES = ("asset", "liability", "equity", "income", "expense")
CHARTS = ("skr03", "skr04", "generic")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class Company(Timestamps, Base):
    """The one company of this installation (id 1)."""

    __tablename__ = "accounting_company"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("fiscal_year_start_month BETWEEN 1 AND 12", name="month"),
        CheckConstraint("base_currency ~ '^[A-Z]{3}$'", name="currency_code"),
        CheckConstraint("country ~ '^[A-Z]{2}$'", name="country_code"),
        CheckConstraint(_one_of("chart", CHARTS), name="known_chart"),
    )

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    street: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(16))
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    # The Steuernummer the tax office gave (its format varies by state).
    tax_number: Mapped[str | None] = mapped_column(String(20))
    vat_id: Mapped[str | None] = mapped_column(String(20))
    fiscal_year_start_month: Mapped[int] = mapped_column(SmallInteger)
    base_currency: Mapped[str] = mapped_column(String(3))
    # The template the accounts were set up from; chosen once.
    chart: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(server_default=text("1"))

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012


class Account(Timestamps, Base):
    __tablename__ = "accounting_account"
    __table_args__ = (
        CheckConstraint("number ~ '^[0-9]{4,8}$'", name="number_digits"),
        CheckConstraint(_one_of("type", ACCOUNT_TYPES), name="known_type"),
        Index(None, "updated_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    # The VAT the account carries (USt19, VSt7, ...), for invoicing and the VAT return.
    tax_key: Mapped[str | None] = mapped_column(String(10))
    # The heading it is shown under in the balance sheet or the profit and loss statement.
    report_group: Mapped[str] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(server_default=text("true"))
    version: Mapped[int] = mapped_column(server_default=text("1"))

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012
