"""The general ledger (Kontoblatt) of a busy account at a million journal lines.

Loads posted entries of two lines each over five fiscal years (2021-2025, as bench/ledger.py
does) and moves every entry's first line to account 1200 (Bank): 500,000 lines on it, 100,000
a year. Then measures, one request at a time through one uvicorn worker:

  month           GET /reports/general-ledger for December 2025, first page (500 lines)
  year            the same for the whole of 2025
  year, deeper    the next pages of the year, each after the previous page's next_cursor
  year CSV        the whole year as CSV (Accept: text/csv): every line, in one download

against the floor: the app's own statement for the page's lines run straight through asyncpg
(without a statement cache, so planned for its values), without HTTP, authentication, the
opening balance or the running balance.

Usage: .venv/bin/python bench/general_ledger.py [--lines 1000000] [--samples 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import urllib.request
from datetime import date

import asyncpg
from exports import load
from harness import Server, scratch_env, serving, sign_in_admin
from ledger import EMAIL, PASSWORD, rebuild_balances, set_up_company

from app.db.repositories.accounting import reports as reports_repo

ACCOUNT = "1200"
LEDGER = "/api/v1/accounting/reports/general-ledger"
SPANS = {
    "month": (date(2025, 12, 1), date(2025, 12, 31)),
    "year": (date(2025, 1, 1), date(2025, 12, 31)),
}
PAGE = 500


async def make_busy(database_url: str) -> int:
    """Every entry's first line onto ACCOUNT (triggers off, balances rebuilt): its lines."""
    conn = await asyncpg.connect(database_url)
    try:
        account = await conn.fetchval(
            "SELECT id FROM accounting_account WHERE number = $1", ACCOUNT
        )
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(
            "UPDATE accounting_journal_line SET account_id = $1 WHERE line_no = 1", account
        )
        await conn.execute("SET session_replication_role = origin")
        await rebuild_balances(conn)
        lines: int = await conn.fetchval(
            "SELECT count(*) FROM accounting_journal_line WHERE account_id = $1", account
        )
        return lines
    finally:
        await conn.close()


def get(url: str, token: str, accept: str = "application/json") -> tuple[float, bytes]:
    headers = {"Authorization": f"Bearer {token}", "Accept": accept}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (the local server)
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
        body = response.read()
    return (time.perf_counter() - started) * 1000, body


def _url(server: Server, span: tuple[date, date], cursor: str | None = None) -> str:
    first, last = span
    url = f"{server.base}{LEDGER}?account={ACCOUNT}&from={first}&to={last}&limit={PAGE}"
    return url + (f"&cursor={cursor}" if cursor else "")


async def floor_ms(database_url: str, span: tuple[date, date], samples: int) -> list[float]:
    """The app's own page statement with the page's values, through asyncpg without a
    statement cache (so each run is planned for its values)."""
    conn = await asyncpg.connect(database_url, statement_cache_size=0)
    try:
        account = await conn.fetchval(
            "SELECT id FROM accounting_account WHERE number = $1", ACCOUNT
        )
        statement = reports_repo._DAYS
        params = {"account_id": account, "first": span[0], "last": span[1], "row_limit": PAGE + 1}
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            await conn.fetch(statement.sql, *statement._arguments(params))
            times.append((time.perf_counter() - started) * 1000)
        return times
    finally:
        await conn.close()


def deeper_pages_ms(server: Server, token: str, samples: int) -> list[float]:
    """Pages of the year one after another, from the first page's next_cursor on."""
    _, body = get(_url(server, SPANS["year"]), token)
    cursor, times = json.loads(body)["next_cursor"], []
    for _ in range(samples):
        took, body = get(_url(server, SPANS["year"], cursor), token)
        times.append(took)
        cursor = json.loads(body)["next_cursor"]
    return times


def p50_p95(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=20)
    return statistics.median(samples), cuts[18]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    rows: dict[str, tuple[tuple[float, float], tuple[float, float] | None]] = {}
    with scratch_env() as env, serving(env) as server:
        _, token = sign_in_admin(server, EMAIL, PASSWORD)
        set_up_company(server.base, token)
        asyncio.run(load(server.database_url, args.lines))
        busy = asyncio.run(make_busy(server.database_url))
        for name, span in SPANS.items():
            api = [get(_url(server, span), token)[0] for _ in range(args.samples)]
            floor = asyncio.run(floor_ms(server.database_url, span, args.samples))
            rows[name] = (p50_p95(api), p50_p95(floor))
        rows["year, deeper"] = (p50_p95(deeper_pages_ms(server, token, args.samples)), None)
        first, last = SPANS["year"]
        csv_ms, csv_body = get(
            f"{server.base}{LEDGER}?account={ACCOUNT}&from={first}&to={last}", token, "text/csv"
        )
    print(f"\ngeneral-ledger bench, {args.lines:,} lines, {busy:,} of them on {ACCOUNT}")
    print(
        f"{'page of ' + str(PAGE):<14} {'p50 ms':>8} {'p95 ms':>8} {'floor p50':>10} {'x floor':>8}"
    )
    for name, ((p50, p95), floor) in rows.items():
        ratio = f"{p50 / floor[0]:>8.1f}" if floor else f"{'':>8}"
        floor_p50 = f"{floor[0]:>10.1f}" if floor else f"{'':>10}"
        print(f"{name:<14} {p50:>8.1f} {p95:>8.1f} {floor_p50} {ratio}")
    csv_lines = csv_body.count(b"\n") - 1
    print(f"year CSV: {csv_lines:,} lines in {csv_ms / 1000:.2f} s")
    print("floor: the page's statement alone through asyncpg, planned for its values")


if __name__ == "__main__":
    main()
