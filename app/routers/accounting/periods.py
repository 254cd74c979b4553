"""Fiscal years and monthly periods: reading needs `accounting:read`; closing and reopening
need `accounting:close`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Path, Query

from app.domain.accounting import periods
from app.domain.identity.principal import Principal
from app.http.dependencies import ReaderDep, SessionDep, actor_for, require
from app.http.problems import problem_responses
from app.http.routing import AreaRouter, DatabaseRoute
from app.routers.accounting.chart import READ
from app.routers.accounting.journal import entry_read
from app.schemas.periods import MONTH_PATTERN, FiscalYearClosing, FiscalYearRead, PeriodRead

CLOSE = require("accounting:close")
Closer = Annotated[Principal, CLOSE]
Month = Annotated[str, Path(pattern=MONTH_PATTERN, description="`YYYY-MM`")]
Year = Annotated[int, Path(ge=1899, le=2999, description="The fiscal year")]

router = AreaRouter(prefix="/api/v1/accounting", tags=["accounting"], route_class=DatabaseRoute)


def _first_day(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


@router.get(
    "/periods",
    operation_id="accounting_list_periods",
    response_model=list[PeriodRead],
    dependencies=[READ],
    responses=problem_responses(409),
)
async def accounting_list_periods(
    reader: ReaderDep,
    fiscal_year: Annotated[int, Query(ge=1899, le=2999, description="The fiscal year")],
) -> list[PeriodRead]:
    """The twelve months of a fiscal year, open or closed."""
    return [PeriodRead.model_validate(p) for p in await periods.list_periods(reader, fiscal_year)]


@router.post(
    "/periods/{month}/close",
    operation_id="accounting_close_period",
    response_model=PeriodRead,
    dependencies=[CLOSE],
    responses=problem_responses(409),
)
async def accounting_close_period(month: Month, session: SessionDep, closer: Closer) -> PeriodRead:
    """Close a month: postings dated in it answer 409 from now on."""
    closed = await periods.close_period(session, actor_for(closer), _first_day(month))
    return PeriodRead.model_validate(closed)


@router.post(
    "/periods/{month}/reopen",
    operation_id="accounting_reopen_period",
    response_model=PeriodRead,
    dependencies=[CLOSE],
    responses=problem_responses(409),
)
async def accounting_reopen_period(month: Month, session: SessionDep, closer: Closer) -> PeriodRead:
    """Reopen a closed month: only someone other than who closed it may (four eyes; 409
    otherwise). A month of a closed fiscal year stays closed."""
    reopened = await periods.reopen_period(session, actor_for(closer), _first_day(month))
    return PeriodRead.model_validate(reopened)


@router.get(
    "/fiscal-years",
    operation_id="accounting_list_fiscal_years",
    response_model=list[FiscalYearRead],
    dependencies=[READ],
    responses=problem_responses(409),
)
async def accounting_list_fiscal_years(reader: ReaderDep) -> list[FiscalYearRead]:
    """Every fiscal year posted into, oldest first."""
    return [FiscalYearRead.model_validate(y) for y in await periods.list_fiscal_years(reader)]


@router.post(
    "/fiscal-years/{fiscal_year}/close",
    operation_id="accounting_close_fiscal_year",
    response_model=FiscalYearClosing,
    dependencies=[CLOSE],
    responses=problem_responses(409),
)
async def accounting_close_fiscal_year(
    fiscal_year: Year, session: SessionDep, closer: Closer
) -> FiscalYearClosing:
    """Year-end closing: with every month closed and no drafts left, posts the next year's
    opening entry (balance-sheet accounts' balances, the result to retained earnings) and
    closes the year for good."""
    done = await periods.close_fiscal_year(session, actor_for(closer), fiscal_year)
    opening = done["opening_entry"]
    return FiscalYearClosing(
        fiscal_year=FiscalYearRead.model_validate(done["fiscal_year"]),
        opening_entry=entry_read(opening) if opening else None,
    )
