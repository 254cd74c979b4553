"""Queries for the exports to the tax advisor (DATEV) and the tax auditor (GDPdU): the posted
journal of a span of posting dates, page by page and line by line, and the chart of accounts
(the company row comes from `chart.company_row`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Integer, bindparam, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.models.accounting import Account, JournalEntry, JournalLine
from app.db.prepared import Prepared
from app.db.prepared import one_snapshot as one_snapshot  # the exports read in one

_entry = JournalEntry.__table__.alias("e")
_reversed = JournalEntry.__table__.alias("r")
_line = JournalLine.__table__.alias("l")
_account = Account.__table__.alias("a")
_DAY = JournalEntry.__table__.c.posting_date.type

# A page of posted entries after a position (fiscal year, number) up to a last fiscal year,
# then one row per line of each, the entry's fields repeated on each: the exports walk the
# journal page by page in this order, so neither the database nor the app holds a whole journal
# at once. The posting date is compared as `posting_date + 0`, which no index serves: asyncpg
# reuses the prepared statement, PostgreSQL then plans it once for unknown dates, and such a plan
# takes the posting-date index, reads the whole span and sorts it for every page (a five-year
# export took minutes). The (fiscal year, number) index is the only way left, and it reads a
# page's entries in order; the fiscal years bound it to the span.
_page = (
    select(*_entry.c)
    .where(
        _entry.c.status == "posted",
        (_entry.c.posting_date + literal(0, Integer())).between(
            bindparam("first", type_=_DAY), bindparam("last", type_=_DAY)
        ),
        tuple_(_entry.c.fiscal_year, _entry.c.number)
        > tuple_(
            bindparam("after_year", type_=Integer()), bindparam("after_number", type_=Integer())
        ),
        _entry.c.fiscal_year <= bindparam("last_year", type_=Integer()),
    )
    .order_by(_entry.c.fiscal_year, _entry.c.number)
    .limit(bindparam("entries", type_=Integer()))
    .subquery("p")
)
_JOURNAL_PAGE = Prepared(
    select(
        _page.c.fiscal_year,
        _page.c.number,
        _page.c.document_date,
        _page.c.posting_date,
        _page.c.document_ref,
        _page.c.text,
        _page.c.kind,
        _page.c.currency,
        _page.c.reverses_id,
        _reversed.c.fiscal_year.label("reverses_fiscal_year"),
        _reversed.c.number.label("reverses_number"),
        _line.c.line_no,
        _account.c.number.label("account"),
        _line.c.amount,
    )
    .select_from(
        _page.join(_line, _line.c.entry_id == _page.c.id)
        .join(_account, _account.c.id == _line.c.account_id)
        .outerjoin(_reversed, _reversed.c.id == _page.c.reverses_id)
    )
    .order_by(_page.c.fiscal_year, _page.c.number, _line.c.line_no)
)
_ACCOUNTS = Prepared(
    select(Account.number, Account.name, Account.type, Account.tax_key).order_by(Account.number)
)


async def journal_page(
    reader: AsyncConnection,
    first: date,
    last: date,
    after: tuple[int, int],
    last_year: int,
    entries: int,
) -> list[dict[str, Any]]:
    """The lines of the first `entries` entries after `after` (fiscal year, number), of fiscal
    years up to `last_year`, posted with a posting date from `first` to `last` (the span's
    fiscal years: pass `after` in its first one), by fiscal year, entry number and line number;
    `amount` is signed (debit positive), `account` is the account's number,
    `reverses_fiscal_year`/`reverses_number` name the entry a reversal cancels."""
    year, number = after
    return await _JOURNAL_PAGE.all(
        reader,
        first=first,
        last=last,
        after_year=year,
        after_number=number,
        last_year=last_year,
        entries=entries,
    )


async def account_rows(reader: AsyncConnection) -> list[dict[str, Any]]:
    """Every account of the chart (number, name, type, tax key), by number. Accounts are never
    deleted, so read after the journal this holds every account the journal names."""
    return await _ACCOUNTS.all(reader)
