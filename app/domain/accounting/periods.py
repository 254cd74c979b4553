"""Fiscal years and their monthly periods. A closed month takes no postings; it is reopened
only by another person than the one who closed it (four eyes), and both are audited. Closing
a fiscal year carries its balances into the next one: one opening entry books every
balance-sheet account's closing balance, and the year's result to retained earnings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.repositories.accounting import periods as repo
from app.domain.accounting.charts import RETAINED_EARNINGS, AccountType, Chart
from app.domain.accounting.company import books_company
from app.domain.accounting.journal import EntryData, post_generated
from app.domain.accounting.rules import (
    EntryKind,
    fiscal_year_of,
    fiscal_year_span,
    line_from_signed,
    month_end,
)
from app.domain.actor import Actor
from app.domain.audit.service import record_change
from app.domain.errors import Conflict

_BALANCE_SHEET = {AccountType.asset, AccountType.liability, AccountType.equity}


@dataclass(frozen=True, slots=True)
class _Company:
    start_month: int
    chart: Chart


async def _company(db: AsyncConnection | AsyncSession) -> _Company:
    row = await books_company(db)
    return _Company(row["fiscal_year_start_month"], Chart(row["chart"]))


def _months(year: int, start_month: int) -> list[date]:
    first, _ = fiscal_year_span(year, start_month)
    return [date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1)
            for i in range(12)]  # fmt: skip


def _period_view(starts_on: date, year: int, row: dict[str, Any] | None) -> dict[str, Any]:
    closed = row is not None and row["closed_at"] is not None
    return {
        "month": f"{starts_on:%Y-%m}",
        "starts_on": starts_on,
        "ends_on": month_end(starts_on),
        "fiscal_year": year,
        "status": "closed" if closed else "open",
        "closed_at": row["closed_at"] if closed and row else None,
        "closed_by": row["closed_by"] if closed and row else None,
    }


def _year_view(year: int, start_month: int, row: dict[str, Any] | None) -> dict[str, Any]:
    first, last = fiscal_year_span(year, start_month)
    closed = row is not None and row["closed_at"] is not None
    return {
        "fiscal_year": year,
        "starts_on": first,
        "ends_on": last,
        "status": "closed" if closed else "open",
        "entries": row["last_number"] if row else 0,
        "closed_at": row["closed_at"] if row else None,
        "closed_by": row["closed_by"] if row else None,
    }


async def list_periods(reader: AsyncConnection, year: int) -> list[dict[str, Any]]:
    """The twelve months of a fiscal year, each open or closed."""
    company = await _company(reader)
    months = _months(year, company.start_month)
    rows = {r["starts_on"]: r for r in await repo.periods_between(reader, months[0], months[-1])}
    return [_period_view(m, year, rows.get(m)) for m in months]


async def _audit(
    session: AsyncSession, actor: Actor, action: str, resource: str, before: Any, after: Any
) -> None:
    await record_change(
        session, actor, action=f"accounting.{action}", resource_type="accounting_period",
        resource_id=resource, before=before, after=after,
    )  # fmt: skip


async def close_period(session: AsyncSession, actor: Actor, month: date) -> dict[str, Any]:
    """Closes a month: postings into it are refused from now on (those in flight finish
    first: closing waits for the year's counter)."""
    company = await _company(session)
    year = fiscal_year_of(month, company.start_month)
    if (await repo.lock_year(session, year))["closed_at"] is not None:
        raise Conflict(f"fiscal year {year} is closed, and all its months with it")
    row = await repo.close_period(session, month, year, actor.subject)
    if row is None:
        current = await repo.period(session, month)
        assert current is not None
        raise Conflict(f"{month:%Y-%m} was closed by {current['closed_by']} already")
    await _audit(session, actor, "period.close", f"{month:%Y-%m}", {"status": "open"},
                 {"status": "closed"})  # fmt: skip
    return _period_view(month, year, row)


async def reopen_period(session: AsyncSession, actor: Actor, month: date) -> dict[str, Any]:
    """Reopens a closed month, by someone else than whoever closed it (four eyes); never
    one of a closed fiscal year."""
    company = await _company(session)
    year = fiscal_year_of(month, company.start_month)
    if (await repo.lock_year(session, year))["closed_at"] is not None:
        raise Conflict(f"fiscal year {year} is closed: its months stay closed")
    current = await repo.period(session, month)
    if current is None or current["closed_at"] is None:
        raise Conflict(f"{month:%Y-%m} is open")
    if current["closed_by"] == actor.subject:
        raise Conflict(
            f"four eyes: {month:%Y-%m} was closed by you; another person with the permission"
            " must reopen it"
        )
    row = await repo.reopen_period(session, month)
    await _audit(
        session, actor, "period.reopen", f"{month:%Y-%m}",
        {"status": "closed", "closed_by": current["closed_by"]}, {"status": "open"},
    )  # fmt: skip
    return _period_view(month, year, row)


async def list_fiscal_years(reader: AsyncConnection) -> list[dict[str, Any]]:
    """Every fiscal year something was posted into (or closed)."""
    company = await _company(reader)
    return [_year_view(r["year"], company.start_month, r) for r in await repo.fiscal_years(reader)]


async def close_fiscal_year(session: AsyncSession, actor: Actor, year: int) -> dict[str, Any]:
    """Year-end closing. The year's months must all be closed, no draft may be dated in it,
    and every earlier year with postings must be closed (none takes postings after). Posts
    the opening entry of the next year on its first day: each balance-sheet account's closing
    balance, and the year's result (income minus expenses) to retained earnings; then closes
    the year for good."""
    company = await _company(session)
    first, last = fiscal_year_span(year, company.start_month)
    row = await repo.lock_year(session, year)
    if row["closed_at"] is not None:
        raise Conflict(f"fiscal year {year} is closed already")
    await _check_closable(session, year, first, last, company)
    balances = await repo.balances_between(session, first, last)
    result = sum(
        (b["balance"] for b in balances if AccountType(b["type"]) not in _BALANCE_SHEET),
        Decimal(0),
    )
    carried = [line_from_signed(b["number"], b["balance"])
               for b in balances if AccountType(b["type"]) in _BALANCE_SHEET]  # fmt: skip
    if result:
        carried.append(line_from_signed(RETAINED_EARNINGS[company.chart], result))
    opening = None
    next_first, _ = fiscal_year_span(year + 1, company.start_month)
    if carried:
        text = f"Saldenvorträge aus dem Geschäftsjahr {year}"
        data = EntryData(document_date=next_first, posting_date=next_first, text=text,
                         document_ref=f"EB-{year + 1}", lines=carried)  # fmt: skip
        opening = await post_generated(session, actor, data, kind=EntryKind.opening)
    closed = await repo.close_year(session, year, actor.subject)
    await _audit(session, actor, "fiscal_year.close", str(year), {"status": "open"},
                 {"status": "closed", "result": str(-result),
                  "opening_entry": str(opening["id"]) if opening else None})  # fmt: skip
    return {"fiscal_year": _year_view(year, company.start_month, closed), "opening_entry": opening}


async def _check_closable(
    session: AsyncSession, year: int, first: date, last: date, company: _Company
) -> None:
    months = _months(year, company.start_month)
    closed = {r["starts_on"] for r in await repo.periods_between(session, first, last)
              if r["closed_at"] is not None}  # fmt: skip
    still_open = [f"{m:%Y-%m}" for m in months if m not in closed]
    if still_open:
        raise Conflict(f"close every month of {year} first; open: {', '.join(still_open)}")
    drafts = await repo.drafts_between(session, first, last)
    if drafts:
        raise Conflict(f"{drafts} draft entries are dated in {year}: post or delete them first")
    earlier = await repo.open_years_before(session, year)
    if earlier:
        years = ", ".join(str(y) for y in earlier)
        raise Conflict(f"close fiscal year {years} first: its balances open the years after")
