"""Queries for the exports to the tax advisor (DATEV) and the tax auditor (GDPdU): the posted
journal of a span of posting dates, line by line, and the chart of accounts (the company row
comes from `chart.company_row`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.models.accounting import Account, JournalEntry, JournalLine
from app.db.prepared import Prepared

_entry = JournalEntry.__table__.alias("e")
_reversed = JournalEntry.__table__.alias("r")
_line = JournalLine.__table__.alias("l")
_account = Account.__table__.alias("a")
_DAY = JournalEntry.__table__.c.posting_date.type

# One row per line, the entry's fields repeated on each: the exports walk the journal entry by
# entry in this order, so grouping needs no second query.
_JOURNAL = Prepared(
    select(
        _entry.c.fiscal_year,
        _entry.c.number,
        _entry.c.document_date,
        _entry.c.posting_date,
        _entry.c.document_ref,
        _entry.c.text,
        _entry.c.kind,
        _entry.c.currency,
        _entry.c.reverses_id,
        _reversed.c.fiscal_year.label("reverses_fiscal_year"),
        _reversed.c.number.label("reverses_number"),
        _line.c.line_no,
        _account.c.number.label("account"),
        _line.c.amount,
    )
    .select_from(
        _entry.join(_line, _line.c.entry_id == _entry.c.id)
        .join(_account, _account.c.id == _line.c.account_id)
        .outerjoin(_reversed, _reversed.c.id == _entry.c.reverses_id)
    )
    .where(
        _entry.c.status == "posted",
        _entry.c.posting_date.between(
            bindparam("first", type_=_DAY), bindparam("last", type_=_DAY)
        ),
    )
    .order_by(_entry.c.fiscal_year, _entry.c.number, _line.c.line_no)
)
_ACCOUNTS = Prepared(
    select(Account.number, Account.name, Account.type, Account.tax_key).order_by(Account.number)
)


async def journal_rows(reader: AsyncConnection, first: date, last: date) -> list[dict[str, Any]]:
    """The lines of the entries posted with a posting date from `first` to `last`, by fiscal
    year, entry number and line number; `amount` is signed (debit positive), `account` is the
    account's number, `reverses_fiscal_year`/`reverses_number` name the entry a reversal
    cancels."""
    return await _JOURNAL.all(reader, first=first, last=last)


async def account_rows(reader: AsyncConnection) -> list[dict[str, Any]]:
    """Every account of the chart (number, name, type, tax key), by number. Accounts are never
    deleted, so read after the journal this holds every account the journal names."""
    return await _ACCOUNTS.all(reader)
