"""Queries the reports are computed with: account totals over a range of days from the kept
monthly and daily balances (a few thousand rows at any size of the journal), and one account's
posted lines."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BindParameter, Integer, String, Uuid, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.models.accounting import JournalEntry
from app.db.prepared import Prepared

_DAY = JournalEntry.__table__.c.posting_date.type
_SPAN_PARAMS = [bindparam(name, type_=_DAY) for name in ("m1", "m2", "d1", "d2", "d3", "d4")]

_TOTALS = Prepared(
    text(
        """
        WITH moved AS (
          SELECT account_id, debit, credit FROM accounting_monthly_balance
           WHERE month BETWEEN :m1 AND :m2
          UNION ALL
          SELECT account_id, debit, credit FROM accounting_daily_balance
           WHERE day BETWEEN :d1 AND :d2
          UNION ALL
          SELECT account_id, debit, credit FROM accounting_daily_balance
           WHERE day BETWEEN :d3 AND :d4
        )
        SELECT a.id AS account_id, a.number, a.name, a.type, a.report_group,
               sum(m.debit) AS debit, sum(m.credit) AS credit
          FROM moved m JOIN accounting_account a ON a.id = m.account_id
         WHERE a.id = :account_id OR :account_id IS NULL
         GROUP BY a.id
         ORDER BY a.number
        """
    ).bindparams(*_SPAN_PARAMS, bindparam("account_id", type_=Uuid()))
)
# One account's posted lines in journal order (posting date, fiscal year, number, line). A
# page after a position reads the rest of the position's day, then the days after it: each
# statement a plain range the planner estimates well (one row comparison across both tables
# made it expect a handful of rows and read all of a busy account's lines for every page).
_ACCOUNT_LINES = """
        SELECT e.posting_date, e.document_date, e.fiscal_year, e.number, e.id AS entry_id,
               e.document_ref, e.text, l.line_no, l.amount
          FROM accounting_journal_line l
          JOIN accounting_journal_entry e ON e.id = l.entry_id
         WHERE l.account_id = :account_id AND e.status = 'posted' AND {where}
         ORDER BY e.posting_date, e.fiscal_year, e.number, l.line_no
         LIMIT :row_limit
        """


def _day_position() -> list[BindParameter[Any]]:
    """The parameters naming an account and a position on a day: the day, then the fiscal
    year, number and line of a line booked on it."""
    return [
        bindparam("account_id", type_=Uuid()),
        bindparam("day", type_=_DAY),
        bindparam("year", type_=Integer()),
        bindparam("number", type_=Integer()),
        bindparam("line", type_=Integer()),
    ]


_DAY_REST = Prepared(
    text(
        _ACCOUNT_LINES.format(
            where="e.posting_date = :day AND (e.fiscal_year, e.number, l.line_no)"
            " > (:year, :number, :line)"
        )
    ).bindparams(*_day_position(), bindparam("row_limit", type_=Integer()))
)
_DAYS = Prepared(
    text(_ACCOUNT_LINES.format(where="e.posting_date BETWEEN :first AND :last")).bindparams(
        bindparam("account_id", type_=Uuid()),
        bindparam("first", type_=_DAY),
        bindparam("last", type_=_DAY),
        bindparam("row_limit", type_=Integer()),
    ),
    # A quiet account is best read by its lines, a busy one by the days.
    custom_plan=True,
)
# What one account's posted lines of one day move, up to a position on that day.
_DAY_UP_TO = Prepared(
    text(
        """
        SELECT coalesce(sum(l.amount), 0)
          FROM accounting_journal_line l
          JOIN accounting_journal_entry e ON e.id = l.entry_id
         WHERE l.account_id = :account_id AND e.status = 'posted' AND e.posting_date = :day
           AND (e.fiscal_year, e.number, l.line_no) <= (:year, :number, :line)
        """
    ).bindparams(*_day_position())
)
_ACCOUNT = Prepared(
    text(
        "SELECT id, number, name, type, report_group FROM accounting_account WHERE number = :number"
    ).bindparams(bindparam("number", type_=String()))
)


DayRange = tuple[date, date]
_ONE_DAY = timedelta(days=1)


def _span_params(
    months: DayRange | None, before: DayRange | None, after: DayRange | None
) -> dict[str, date | None]:
    return {
        "m1": months[0] if months else None,
        "m2": months[1] if months else None,
        "d1": before[0] if before else None,
        "d2": before[1] if before else None,
        "d3": after[0] if after else None,
        "d4": after[1] if after else None,
    }


async def account_totals(
    reader: AsyncConnection,
    months: DayRange | None,
    days_before: DayRange | None,
    days_after: DayRange | None,
    account_id: uuid.UUID | None = None,
) -> list[dict[str, Any]]:
    """Per account moved in the whole months (first days) and the two ranges of days (or only
    `account_id`): its number, name, type, report group and debit and credit totals, by
    account number."""
    params = _span_params(months, days_before, days_after)
    return await _TOTALS.all(reader, **params, account_id=account_id)


async def account_by_number(reader: AsyncConnection, number: str) -> dict[str, Any] | None:
    return await _ACCOUNT.one_or_none(reader, number=number)


# Where a page of an account's lines starts after: posting date, fiscal year, number, line.
LinePosition = tuple[date, int, int, int]


async def account_lines(
    reader: AsyncConnection,
    account_id: uuid.UUID,
    first: date,
    last: date,
    after: LinePosition,
    limit: int,
) -> list[dict[str, Any]]:
    """At most `limit` of the account's posted lines booked from `first` to `last`, after
    `after`, in journal order (posting date, fiscal year, number, line); `amount` is signed
    (debit positive)."""
    day, year, number, line = after
    rows: list[dict[str, Any]] = []
    if first <= day <= last:
        rows = await _DAY_REST.all(
            reader, account_id=account_id, day=day, year=year, number=number, line=line,
            row_limit=limit,
        )  # fmt: skip
    if len(rows) < limit:
        rows += await _DAYS.all(
            reader, account_id=account_id, first=max(first, day + _ONE_DAY), last=last,
            row_limit=limit - len(rows),
        )  # fmt: skip
    return rows


async def day_moved_up_to(
    reader: AsyncConnection, account_id: uuid.UUID, position: LinePosition
) -> Decimal:
    """What the account's posted lines of the position's day move (debit positive), up to
    and including the line at the position."""
    day, year, number, line = position
    moved: Decimal = await _DAY_UP_TO.scalar(
        reader, account_id=account_id, day=day, year=year, number=number, line=line
    )
    return moved
