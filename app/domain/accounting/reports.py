"""The reports: trial balance, general ledger, profit and loss, balance sheet. All add up the
kept per-account monthly and daily totals (kept in the posting transaction), never scan the
journal, except the general ledger, which lists one account's lines.

Balances run from the start of the fiscal year: a year's balance-sheet accounts open with the
opening entry its predecessor's year-end closing posted."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.repositories.accounting import reports as repo
from app.domain.accounting.charts import AccountType
from app.domain.accounting.company import books_company
from app.domain.accounting.rules import fiscal_year_of, fiscal_year_span, spans
from app.domain.errors import FieldError, InvalidInput, NotFound

MAX_LEDGER_LINES = 10_000
_ZERO = Decimal("0.00")
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


async def general_ledger(
    reader: AsyncConnection, number: str, first: date, last: date
) -> dict[str, Any]:
    """One account's posted lines from `first` to `last`, each with the running balance,
    which opens with the balance from the start of `first`'s fiscal year."""
    _check_range(first, last)
    start_month = await _start_month(reader)
    year, year_start = _year_start(first, start_month)
    if fiscal_year_of(last, start_month) != year:
        detail = f"must lie in fiscal year {year}, as `from`: balances run per fiscal year"
        raise InvalidInput(f"to: {detail}", [FieldError(detail, parameter="to")])
    account = await repo.account_by_number(reader, number)
    if account is None:
        raise NotFound(f"no account numbered {number}")
    before = await _totals(
        reader, year_start, date.fromordinal(first.toordinal() - 1), account_id=account["id"]
    ) if first > year_start else []  # fmt: skip
    opening = sum((t["debit"] - t["credit"] for t in before), _ZERO)
    lines = await repo.account_lines(reader, account["id"], first, last, MAX_LEDGER_LINES + 1)
    if len(lines) > MAX_LEDGER_LINES:
        detail = f"more than {MAX_LEDGER_LINES} lines: ask for a shorter range"
        raise InvalidInput(f"to: {detail}", [FieldError(detail, parameter="to")])
    listed = [_ledger_line(x, opening) for x in lines]
    debit = sum((x["debit"] for x in listed), _ZERO)
    credit = sum((x["credit"] for x in listed), _ZERO)
    return {
        "account": {k: account[k] for k in ("number", "name", "type")} | {"id": account["id"]},
        "from": first,
        "to": last,
        "opening_balance": opening,
        "lines": listed,
        "debit": debit,
        "credit": credit,
        "closing_balance": opening + debit - credit,
    }


def _ledger_line(line: dict[str, Any], opening: Decimal) -> dict[str, Any]:
    amount: Decimal = line["amount"]
    keep = ("posting_date", "document_date", "fiscal_year", "number", "entry_id",
            "document_ref", "text")  # fmt: skip
    return {k: line[k] for k in keep} | {
        "debit": amount if amount > 0 else _ZERO,
        "credit": -amount if amount < 0 else _ZERO,
        "balance": opening + line["running"],
    }
