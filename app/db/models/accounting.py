"""Accounting: the company the books are kept for, and its chart of accounts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
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


ENTRY_STATUSES = ("draft", "posted")
# regular: booked by hand or by another area; reversal: cancels a posted entry (GoBD: posted
# entries are never changed); opening: the balances a year-end closing carries forward.
ENTRY_KINDS = ("regular", "reversal", "opening")


class FiscalYear(Base):
    """A fiscal year's posting counter: the row every posting into the year locks, so numbers
    are gap-free (a rolled-back posting gives its number back) and the hash chain is linear.
    It also holds what a posting must see as of the moment it got the lock: the last entry's
    hash and the closed months (the period rows say who closed them, and when)."""

    __tablename__ = "accounting_fiscal_year"
    __table_args__ = (CheckConstraint("last_number >= 0", name="counter"),)

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(server_default=text("0"))
    last_hash: Mapped[str] = mapped_column(String(64), server_default=text("''"))
    closed_months: Mapped[list[date]] = mapped_column(
        ARRAY(Date()), server_default=text("'{}'::date[]")
    )
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(200))


class Period(Base):
    """A month of a fiscal year that has been closed (and perhaps reopened); months without a
    row are open."""

    __tablename__ = "accounting_period"
    __table_args__ = (
        CheckConstraint("extract(day FROM starts_on) = 1", name="month_start"),
        CheckConstraint("(closed_at IS NULL) = (closed_by IS NULL)", name="closed_by_whom"),
    )

    starts_on: Mapped[date] = mapped_column(primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(ForeignKey("accounting_fiscal_year.year"))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(server_default=text("1"))

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012


class JournalEntry(Timestamps, Base):
    __tablename__ = "accounting_journal_entry"
    __table_args__ = (
        CheckConstraint(_one_of("status", ENTRY_STATUSES), name="known_status"),
        CheckConstraint(_one_of("kind", ENTRY_KINDS), name="known_kind"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
        CheckConstraint(
            "(status = 'posted') = (number IS NOT NULL AND fiscal_year IS NOT NULL"
            " AND hash IS NOT NULL AND previous_hash IS NOT NULL AND posted_at IS NOT NULL)",
            name="numbered_when_posted",
        ),
        CheckConstraint("(source_type IS NULL) = (source_id IS NULL)", name="whole_source"),
        CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name="reversal_link"),
        UniqueConstraint("fiscal_year", "number"),
        Index(None, "updated_at", "id"),
        Index("ix_accounting_journal_entry_posting_date", "posting_date"),
        Index(
            "ix_accounting_journal_entry_source", "source_type", "source_id",
            postgresql_where=text("source_type IS NOT NULL"),
        ),
    )  # fmt: skip

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(10))
    currency: Mapped[str] = mapped_column(String(3))
    document_date: Mapped[date]
    posting_date: Mapped[date]
    # DATEV's Belegfeld 1 and Buchungstext limits, so exports carry them whole.
    document_ref: Mapped[str | None] = mapped_column(String(36))
    text: Mapped[str] = mapped_column(String(60))
    # What the entry books: an invoice, an order, a payroll run...
    source_type: Mapped[str | None] = mapped_column(String(40))
    source_id: Mapped[str | None] = mapped_column(String(100))
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounting_journal_entry.id"), unique=True
    )
    fiscal_year: Mapped[int | None] = mapped_column(ForeignKey("accounting_fiscal_year.year"))
    number: Mapped[int | None]
    previous_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    posted_at: Mapped[datetime | None]
    posted_by: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(server_default="1")  # `text` is a column here


class JournalLine(Base):
    """One side of a booking. `amount` is signed: debit positive, credit negative, so an
    entry balances when its amounts sum to zero."""

    __tablename__ = "accounting_journal_line"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="nonzero"),
        Index(None, "account_id"),
    )

    entry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounting_journal_entry.id", ondelete="CASCADE"), primary_key=True
    )
    line_no: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounting_account.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))


class _Balance:
    """Debit and credit totals of the posted lines of one account over one span, kept in the
    posting transaction, so reports add up a few thousand rows instead of millions of lines."""

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounting_account.id"))
    debit: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    credit: Mapped[Decimal] = mapped_column(Numeric(18, 2))


class MonthlyBalance(_Balance, Base):
    __tablename__ = "accounting_monthly_balance"
    # Reports read a span of months for every account.
    __table_args__ = (PrimaryKeyConstraint("month", "account_id"),)

    month: Mapped[date]


class DailyBalance(_Balance, Base):
    """The days of a month a report starts or ends within."""

    __tablename__ = "accounting_daily_balance"
    __table_args__ = (PrimaryKeyConstraint("day", "account_id"),)

    day: Mapped[date]
