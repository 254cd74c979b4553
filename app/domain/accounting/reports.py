"""The reports: trial balance, general ledger, profit and loss, balance sheet. All add up the
kept per-account monthly and daily totals (kept in the posting transaction), never scan the
journal, except the general ledger, which lists one account's lines.

Balances run from the start of the fiscal year: a year's balance-sheet accounts open with the
opening entry its predecessor's year-end closing posted."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.repositories.accounting import reports as repo
from app.domain.accounting.charts import AccountType
from app.domain.accounting.company import books_company
from app.domain.accounting.rules import fiscal_year_of, fiscal_year_span, spans
from app.domain.errors import FieldError, InvalidInput, NotFound

_ZERO = Decimal("0.00")
_WHOLE_LEDGER_PAGE = 5000  # lines read per statement for the whole ledger
_INCOME_STATEMENT = {AccountType.income, AccountType.expense}


async def _start_month(reader: AsyncConnection) -> int:
    company = await books_company(reader)
    month: int = company["fiscal_year_start_month"]
    return month


async def _totals(
    reader: AsyncConnection, first: date, last: date, **kw: Any
) -> list[dict[str, Any]]:
    span = spans(first, last)
    return await repo.account_totals(reader, span.months, span.days_before, span.days_after, **kw)


def _year_start(day: date, start_month: int) -> tuple[int, date]:
    year = fiscal_year_of(day, start_month)
    return year, fiscal_year_span(year, start_month)[0]


def _check_range(first: date, last: date) -> None:
    if first > last:
        detail = "must not come after `to`"
        raise InvalidInput(f"from: {detail}", [FieldError(detail, parameter="from")])


async def trial_balance(reader: AsyncConnection, as_of: date) -> dict[str, Any]:
    """Every account moved in the fiscal year up to `as_of` (inclusive): its debit and credit
    totals and its balance (debit positive). The debits equal the credits; the balances sum
    to zero."""
    year, first = _year_start(as_of, await _start_month(reader))
    rows = [
        {k: t[k] for k in ("account_id", "number", "name", "type", "debit", "credit")}
        | {"account": t["number"], "balance": t["debit"] - t["credit"]}
        for t in await _totals(reader, first, as_of)
    ]
    return {
        "as_of": as_of,
        "fiscal_year": year,
        "starts_on": first,
        "accounts": rows,
        "debit": sum((r["debit"] for r in rows), _ZERO),
        "credit": sum((r["credit"] for r in rows), _ZERO),
    }


def _grouped(totals: Iterable[dict[str, Any]], sign: int) -> dict[str, Any]:
    """Accounts under their report groups, each amount `sign` times (debit - credit)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in totals:
        amount = sign * (t["debit"] - t["credit"])
        groups[t["report_group"]].append(
            {"account": t["number"], "account_id": t["account_id"], "name": t["name"],
             "amount": amount}
        )  # fmt: skip
    listed = [
        {"group": name, "accounts": accounts, "total": sum((a["amount"] for a in accounts), _ZERO)}
        for name, accounts in groups.items()
    ]
    return {"groups": listed, "total": sum((g["total"] for g in listed), _ZERO)}


def _of_type(totals: list[dict[str, Any]], *types: AccountType) -> list[dict[str, Any]]:
    return [t for t in totals if AccountType(t["type"]) in types]


async def profit_and_loss(reader: AsyncConnection, first: date, last: date) -> dict[str, Any]:
    """Income and expenses booked from `first` to `last`, under the chart's groups; the
    result is income less expenses (a profit is positive)."""
    _check_range(first, last)
    await _start_month(reader)
    totals = await _totals(reader, first, last)
    income = _grouped(_of_type(totals, AccountType.income), -1)
    expenses = _grouped(_of_type(totals, AccountType.expense), 1)
    return {
        "from": first,
        "to": last,
        "income": income,
        "expenses": expenses,
        "result": income["total"] - expenses["total"],
    }


async def balance_sheet(reader: AsyncConnection, as_of: date) -> dict[str, Any]:
    """Assets against equity and liabilities as of `as_of`, under the chart's groups, the
    fiscal year's result so far shown under equity: both sides are equal."""
    year, first = _year_start(as_of, await _start_month(reader))
    totals = await _totals(reader, first, as_of)
    result = -sum((t["debit"] - t["credit"] for t in _of_type(totals, *_INCOME_STATEMENT)), _ZERO)
    assets = _grouped(_of_type(totals, AccountType.asset), 1)
    equity = _grouped(_of_type(totals, AccountType.equity), -1)
    liabilities = _grouped(_of_type(totals, AccountType.liability), -1)
    return {
        "as_of": as_of,
        "fiscal_year": year,
        "assets": assets,
        "equity": equity,
        "liabilities": liabilities,
        "result": result,
        "total_assets": assets["total"],
        "total_equity_and_liabilities": equity["total"] + liabilities["total"] + result,
    }


# A page of the general ledger starts after a position, handed out as `next_cursor`:
# `<posting date as a day number (0001-01-01 is 1)>-<fiscal year>-<number>-<line>`. Every
# string of that form is a position some page can start after (before the span: its start;
# after it: nothing left), so no well-formed cursor is refused.
LEDGER_CURSOR_PATTERN = r"^[0-9]{1,7}-[0-9]{1,4}-[0-9]{1,9}-[0-9]{1,5}$"


def ledger_cursor(position: repo.LinePosition) -> str:
    day, year, number, line = position
    return f"{day.toordinal()}-{year}-{number}-{line}"


def _ledger_position(cursor: str, first: date, last: date) -> repo.LinePosition | None:
    """The position a cursor names, moved to just before `first` when it lies before the span;
    None when it lies after it."""
    ordinal, year, number, line = (int(part) for part in cursor.split("-"))
    if ordinal > last.toordinal():
        return None
    if ordinal < first.toordinal():
        return _before(first)
    return date.fromordinal(ordinal), year, number, line


def _before(first: date) -> repo.LinePosition:
    return date.fromordinal(first.toordinal() - 1), 0, 0, 0


async def _balance_before(
    reader: AsyncConnection, account_id: uuid.UUID, year_start: date, day: date
) -> Decimal:
    """The account's balance from the fiscal year's start to the day before `day`."""
    if day <= year_start:
        return _ZERO
    before = await _totals(
        reader, year_start, date.fromordinal(day.toordinal() - 1), account_id=account_id
    )
    return sum((t["debit"] - t["credit"] for t in before), _ZERO)


@dataclass(frozen=True, slots=True)
class _Ledger:
    account: dict[str, Any]
    year_start: date
    opening: Decimal


async def _ledger(reader: AsyncConnection, number: str, first: date, last: date) -> _Ledger:
    """The account and its balance before `first`; 422 for a span across fiscal years."""
    _check_range(first, last)
    start_month = await _start_month(reader)
    year, year_start = _year_start(first, start_month)
    if fiscal_year_of(last, start_month) != year:
        detail = f"must lie in fiscal year {year}, as `from`: balances run per fiscal year"
        raise InvalidInput(f"to: {detail}", [FieldError(detail, parameter="to")])
    account = await repo.account_by_number(reader, number)
    if account is None:
        raise NotFound(f"no account numbered {number}")
    opening = await _balance_before(reader, account["id"], year_start, first)
    return _Ledger(account, year_start, opening)


async def _ledger_page(
    reader: AsyncConnection,
    account_id: uuid.UUID,
    span: tuple[date, date],
    after: repo.LinePosition,
    balance: Decimal,
    limit: int,
) -> tuple[list[dict[str, Any]], repo.LinePosition | None]:
    """At most `limit` lines after `after`, their running balance continuing from `balance`
    (the balance at `after`), and the position of the last one when more follow."""
    first, last = span
    rows = await repo.account_lines(reader, account_id, first, last, after, limit + 1)
    page = []
    for row in rows[:limit]:
        balance += row["amount"]
        page.append(_ledger_line(row, balance))
    if len(rows) <= limit:
        return page, None
    end = rows[limit - 1]
    return page, (end["posting_date"], end["fiscal_year"], end["number"], end["line_no"])


def _ledger_report(
    ledger: _Ledger, first: date, last: date, moved: list[dict[str, Any]]
) -> dict[str, Any]:
    account = ledger.account
    debit = sum((t["debit"] for t in moved), _ZERO)
    credit = sum((t["credit"] for t in moved), _ZERO)
    return {
        "account": {k: account[k] for k in ("number", "name", "type", "id")},
        "from": first,
        "to": last,
        "opening_balance": ledger.opening,
        "debit": debit,
        "credit": credit,
        "closing_balance": ledger.opening + debit - credit,
    }


async def general_ledger(
    reader: AsyncConnection,
    number: str,
    first: date,
    last: date,
    limit: int,
    cursor: str | None = None,
) -> dict[str, Any]:
    """One account's posted lines from `first` to `last`, a page of at most `limit` after
    `cursor`, each with the running balance, which opens with the balance from the start of
    `first`'s fiscal year; the totals and the closing balance are the whole span's.
    `next_cursor` names where the next page starts, None after the last."""
    ledger = await _ledger(reader, number, first, last)
    account_id = ledger.account["id"]
    moved = await _totals(reader, first, last, account_id=account_id)
    after = _before(first) if cursor is None else _ledger_position(cursor, first, last)
    page: list[dict[str, Any]] = []
    position = None
    if after is not None:
        balance = ledger.opening
        if after[0] >= first:
            balance = await _balance_before(reader, account_id, ledger.year_start, after[0])
            balance += await repo.day_moved_up_to(reader, account_id, after)
        page, position = await _ledger_page(
            reader, account_id, (first, last), after, balance, limit
        )
    next_cursor = None if position is None else ledger_cursor(position)
    return _ledger_report(ledger, first, last, moved) | {
        "lines": page,
        "next_cursor": next_cursor,
    }


async def general_ledger_pages(
    reader: AsyncConnection, number: str, first: date, last: date
) -> AsyncIterator[list[dict[str, Any]]]:
    """Every line of the general ledger's span (for the CSV download), a page at a time; each
    page's balances continue from the page before, so a posting that lands between two pages
    cannot make the running balance jump. 404 and 422 as `general_ledger`."""
    ledger = await _ledger(reader, number, first, last)
    account_id = ledger.account["id"]
    after: repo.LinePosition | None = _before(first)
    balance = ledger.opening
    while after is not None:
        page, after = await _ledger_page(
            reader, account_id, (first, last), after, balance, _WHOLE_LEDGER_PAGE
        )
        if page:
            yield page
            balance = page[-1]["balance"]


def _ledger_line(line: dict[str, Any], balance: Decimal) -> dict[str, Any]:
    """A line as the ledger shows it, with the balance after it."""
    amount: Decimal = line["amount"]
    keep = ("posting_date", "document_date", "fiscal_year", "number", "entry_id",
            "document_ref", "text")  # fmt: skip
    return {k: line[k] for k in keep} | {
        "debit": amount if amount > 0 else _ZERO,
        "credit": -amount if amount < 0 else _ZERO,
        "balance": balance,
    }
