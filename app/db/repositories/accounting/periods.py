"""Queries for fiscal years and their monthly periods: closing, reopening, year-end balances."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Integer, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models.accounting import FiscalYear, Period
from app.db.prepared import Executor, Prepared, untruncated

_DAY = Period.__table__.c.starts_on.type
_BY = untruncated(Period.__table__.c.closed_by.type)

# Takes the year's counter row, as every posting into the year does (journal.py): a period
# closes only once the postings into it in flight have committed, and the postings after
# read the closed months from the row they lock.
_LOCK_YEAR = Prepared(
    text(
        """
        INSERT INTO accounting_fiscal_year AS y (year) VALUES (:year)
        ON CONFLICT (year) DO UPDATE SET last_number = y.last_number
        RETURNING year, last_number, closed_at, closed_by
        """
    ).bindparams(bindparam("year", type_=Integer()))
)
_PERIODS = Prepared(
    text(
        "SELECT starts_on, closed_at, closed_by FROM accounting_period"
        " WHERE starts_on BETWEEN :first AND :last ORDER BY starts_on"
    ).bindparams(bindparam("first", type_=_DAY), bindparam("last", type_=_DAY))
)
_CLOSE = Prepared(
    text(
        """
        WITH closed AS (
          INSERT INTO accounting_period AS p (starts_on, fiscal_year, closed_at, closed_by)
          VALUES (:starts_on, :year, now(), :by)
          ON CONFLICT (starts_on) DO UPDATE
             SET closed_at = now(), closed_by = :by, version = p.version + 1
           WHERE p.closed_at IS NULL
          RETURNING starts_on, closed_at, closed_by
        ), noted AS (
          UPDATE accounting_fiscal_year
             SET closed_months = array_append(closed_months, :starts_on)
           WHERE year = :year AND EXISTS (SELECT FROM closed)
        )
        SELECT * FROM closed
        """
    ).bindparams(
        bindparam("starts_on", type_=_DAY),
        bindparam("year", type_=Integer()),
        bindparam("by", type_=_BY),
    )
)
_REOPEN = Prepared(
    text(
        """
        WITH opened AS (
          UPDATE accounting_period
             SET closed_at = NULL, closed_by = NULL, version = version + 1
           WHERE starts_on = :starts_on AND closed_at IS NOT NULL
          RETURNING starts_on, closed_at, closed_by, fiscal_year
        ), noted AS (
          UPDATE accounting_fiscal_year y
             SET closed_months = array_remove(y.closed_months, :starts_on)
            FROM opened WHERE y.year = opened.fiscal_year
        )
        SELECT starts_on, closed_at, closed_by FROM opened
        """
    ).bindparams(bindparam("starts_on", type_=_DAY))
)
_PERIOD = Prepared(
    text(
        "SELECT starts_on, closed_at, closed_by FROM accounting_period WHERE starts_on = :starts_on"
    ).bindparams(bindparam("starts_on", type_=_DAY))
)
_YEARS = Prepared(
    text("SELECT year, last_number, closed_at, closed_by FROM accounting_fiscal_year ORDER BY year")
)
_OPEN_BEFORE = Prepared(
    text(
        "SELECT year FROM accounting_fiscal_year"
        " WHERE year < :year AND closed_at IS NULL AND last_number > 0 ORDER BY year"
    ).bindparams(bindparam("year", type_=Integer()))
)
_CLOSE_YEAR = Prepared(
    text(
        """
        UPDATE accounting_fiscal_year SET closed_at = now(), closed_by = :by
         WHERE year = :year AND closed_at IS NULL
        RETURNING year, last_number, closed_at, closed_by
        """
    ).bindparams(
        bindparam("year", type_=Integer()),
        bindparam("by", type_=untruncated(FiscalYear.__table__.c.closed_by.type)),
    )
)
_DRAFTS = Prepared(
    text(
        "SELECT count(*) FROM accounting_journal_entry"
        " WHERE status = 'draft' AND posting_date BETWEEN :first AND :last"
    ).bindparams(bindparam("first", type_=_DAY), bindparam("last", type_=_DAY))
)
# Each account's balance (debit positive) over whole months, from the kept monthly totals.
_BALANCES = Prepared(
    text(
        """
        SELECT a.number, a.type, sum(b.debit - b.credit) AS balance
          FROM accounting_monthly_balance b
          JOIN accounting_account a ON a.id = b.account_id
         WHERE b.month BETWEEN :first AND :last
         GROUP BY a.number, a.type
        HAVING sum(b.debit - b.credit) <> 0
         ORDER BY a.number
        """
    ).bindparams(bindparam("first", type_=_DAY), bindparam("last", type_=_DAY))
)


async def lock_year(session: AsyncSession, year: int) -> dict[str, Any]:
    """The fiscal year's row (made if new), locked until commit."""
    row = await _LOCK_YEAR.one_or_none(session, year=year)
    assert row is not None
    return row


async def periods_between(db: Executor, first: date, last: date) -> list[dict[str, Any]]:
    """The periods with a row (closed once) starting from `first` to `last`."""
    return await _PERIODS.all(db, first=first, last=last)


async def period(db: Executor, starts_on: date) -> dict[str, Any] | None:
    return await _PERIOD.one_or_none(db, starts_on=starts_on)


async def close_period(
    session: AsyncSession, starts_on: date, year: int, by: str
) -> dict[str, Any] | None:
    """None when it is closed already."""
    return await _CLOSE.one_or_none(session, starts_on=starts_on, year=year, by=by)


async def reopen_period(session: AsyncSession, starts_on: date) -> dict[str, Any] | None:
    """None when it is open."""
    return await _REOPEN.one_or_none(session, starts_on=starts_on)


async def fiscal_years(db: Executor) -> list[dict[str, Any]]:
    return await _YEARS.all(db)


async def open_years_before(db: Executor, year: int) -> list[int]:
    """The earlier fiscal years with postings that are still open."""
    return [r["year"] for r in await _OPEN_BEFORE.all(db, year=year)]


async def close_year(session: AsyncSession, year: int, by: str) -> dict[str, Any] | None:
    return await _CLOSE_YEAR.one_or_none(session, year=year, by=by)


async def drafts_between(db: Executor, first: date, last: date) -> int:
    drafts: int = await _DRAFTS.scalar(db, first=first, last=last)
    return drafts


async def balances_between(db: Executor, first: date, last: date) -> list[dict[str, Any]]:
    """Per account with a balance: its number, type and balance (debit positive) over the
    months from `first` to `last`."""
    return await _BALANCES.all(db, first=first, last=last)
