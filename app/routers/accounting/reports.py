"""The reports, as JSON or (with `Accept: text/csv`) CSV. Trial balance, profit and loss and
balance sheet need `accounting:read` or `accounting:balances:read` (credit officers); the
general ledger lists entries and needs `accounting:read`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Query, Request, Response

from app.domain.accounting import reports
from app.domain.worker_threads import in_thread
from app.http.csv_text import CSV_MEDIA_TYPE, CSV_RESPONSE, CsvSpool, csv_response, wants_csv
from app.http.dependencies import DEFAULT_PAGE_SIZE, PageLimit, ReaderDep, require
from app.http.downloads import file_download
from app.http.problems import problem_responses
from app.http.routing import AreaRouter, DatabaseRoute
from app.routers.accounting.chart import READ
from app.schemas.accounting import AccountNumber
from app.schemas.common import CalendarDate
from app.schemas.reports import BalanceSheet, GeneralLedger, ProfitAndLoss, TrialBalance

BALANCES = require("accounting:read", "accounting:balances:read")
_RESPONSES = {**CSV_RESPONSE, **problem_responses(409, 422)}
AsOf = Annotated[CalendarDate, Query(description="The last day counted (inclusive)")]
From = Annotated[CalendarDate, Query(alias="from", description="The first day (inclusive)")]
To = Annotated[CalendarDate, Query(description="The last day (inclusive)")]

router = AreaRouter(
    prefix="/api/v1/accounting/reports", tags=["accounting"], route_class=DatabaseRoute
)


def _section_rows(name: str, section: dict[str, Any]) -> list[list[Any]]:
    return [
        [name, group["group"], a["account"], a["name"], a["amount"]]
        for group in section["groups"]
        for a in group["accounts"]
    ]


_SECTION_HEADER = ("section", "group", "account", "name", "amount")


@router.get(
    "/trial-balance",
    operation_id="accounting_trial_balance",
    response_model=TrialBalance,
    dependencies=[BALANCES],
    responses=_RESPONSES,
)
async def accounting_trial_balance(
    request: Request, reader: ReaderDep, as_of: AsOf
) -> TrialBalance | Response:
    """Summen- und Saldenliste: every account moved from the start of the fiscal year to
    `as_of`, with its debit and credit totals and its balance."""
    report = await reports.trial_balance(reader, as_of)
    if wants_csv(request):
        rows = ([r["account"], r["name"], r["type"], r["debit"], r["credit"], r["balance"]]
                for r in report["accounts"])  # fmt: skip
        header = ("account", "name", "type", "debit", "credit", "balance")
        return csv_response(header, rows, f"trial-balance-{as_of}.csv")
    return TrialBalance.model_validate(report)


@router.get(
    "/profit-and-loss",
    operation_id="accounting_profit_and_loss",
    response_model=ProfitAndLoss,
    dependencies=[BALANCES],
    responses=_RESPONSES,
)
async def accounting_profit_and_loss(
    request: Request, reader: ReaderDep, from_: From, to: To
) -> ProfitAndLoss | Response:
    """Gewinn- und Verlustrechnung: income and expenses from `from` to `to` under the chart's
    groups, and the result."""
    report = await reports.profit_and_loss(reader, from_, to)
    if wants_csv(request):
        rows = _section_rows("income", report["income"]) + _section_rows(
            "expenses", report["expenses"]
        )
        rows.append(["result", "", "", "", report["result"]])
        return csv_response(_SECTION_HEADER, rows, f"profit-and-loss-{from_}-{to}.csv")
    return ProfitAndLoss.model_validate(report)


@router.get(
    "/balance-sheet",
    operation_id="accounting_balance_sheet",
    response_model=BalanceSheet,
    dependencies=[BALANCES],
    responses=_RESPONSES,
)
async def accounting_balance_sheet(
    request: Request, reader: ReaderDep, as_of: AsOf
) -> BalanceSheet | Response:
    """Bilanz: assets against equity (with the year's result so far) and liabilities as of
    `as_of`, under the chart's groups."""
    report = await reports.balance_sheet(reader, as_of)
    if wants_csv(request):
        rows = [row for name in ("assets", "equity", "liabilities")
                for row in _section_rows(name, report[name])]  # fmt: skip
        rows.append(["equity", "result", "", "", report["result"]])
        return csv_response(_SECTION_HEADER, rows, f"balance-sheet-{as_of}.csv")
    return BalanceSheet.model_validate(report)


_LEDGER_HEADER = ("posting_date", "fiscal_year", "number", "document_ref", "text", "debit",
                  "credit", "balance")  # fmt: skip


def _ledger_rows(lines: list[dict[str, Any]]) -> list[list[Any]]:
    return [[x["posting_date"], x["fiscal_year"], x["number"], x["document_ref"], x["text"],
             x["debit"], x["credit"], x["balance"]] for x in lines]  # fmt: skip


async def _general_ledger_csv(reader: ReaderDep, account: str, first: date, last: date) -> Response:
    """Every line of the span, written page by page to a spooled file off the event loop (a
    year of a busy account is 100,000 lines and more), then streamed."""
    spool = CsvSpool(_LEDGER_HEADER)
    try:
        async for page in reports.general_ledger_pages(reader, account, first, last):
            await in_thread(spool.write, _ledger_rows(page))
    except BaseException:
        spool.discard()
        raise
    filename = f"general-ledger-{account}-{first}-{last}.csv"
    return file_download(spool.finish(), f"{CSV_MEDIA_TYPE}; charset=utf-8", filename)


@router.get(
    "/general-ledger",
    operation_id="accounting_general_ledger",
    response_model=GeneralLedger,
    dependencies=[READ],
    responses={**CSV_RESPONSE, **problem_responses(404, 409, 422)},
)
async def accounting_general_ledger(
    request: Request,
    reader: ReaderDep,
    account: Annotated[AccountNumber, Query(description="The account's number")],
    from_: From,
    to: To,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None,
        Query(
            pattern=reports.LEDGER_CURSOR_PATTERN,
            description="`next_cursor` of the previous page (JSON)",
        ),
    ] = None,
) -> GeneralLedger | Response:
    """Kontoblatt: one account's posted lines from `from` to `to` with the running balance,
    opening with the balance from the fiscal year's start. JSON pages the lines (`limit`,
    `cursor`; the totals and the closing balance are the whole span's); the CSV holds every
    line of the span."""
    if wants_csv(request):
        return await _general_ledger_csv(reader, account, from_, to)
    report = await reports.general_ledger(reader, account, from_, to, limit, cursor)
    return GeneralLedger.model_validate(report)
