"""The ledger's reports and postings at millions of journal lines, in one run (issue 9, item 9).

Sets up a company on SKR03 through the API, adds accounts up to 500, then loads posted journal
entries of two lines each over five fiscal years (2021-2025) with COPY (triggers off, as a
migration from another system would load them), and the balances the reports read from them.
At each size (default 1,000,000 and then 5,000,000 lines) it measures, one request at a time:

  trial_balance   GET /reports/trial-balance?as_of=<a random day>
  profit_and_loss GET /reports/profit-and-loss for a random whole fiscal year
  group_by        the same trial balance as a plain GROUP BY over the lines (asyncpg): what
                  the reports would cost without the kept balances

and prints p50/p95. Then it posts 2-line entries through the API with wrk at 16 connections
(`"post": true`: numbering, hash chain, balances and audit in the transaction), in rounds
alternating with a server that posts without keeping the balances, and prints entries/s;
and the floor: the app's own two posting statements run straight through asyncpg at 16
connections, without HTTP or authentication.

Targets: trial balance and P&L p95 <= 50 ms at 5M lines; the balances add <= 15 % to a
posting; >= 500 posted entries/s.

Usage: .venv/bin/python bench/ledger.py [--lines 1000000,5000000] [--samples 200]
                                        [--seconds 5] [--rounds 3] [--workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
from floor_app import WITHOUT_BALANCES
from harness import Load, Target, call, scratch_env, serving, sign_in_admin, wrk

from app.cli import default_workers
from app.db.repositories.accounting import journal as journal_repo

EMAIL = "bench-admin@example.com"
PASSWORD = "bench password 1234"  # noqa: S105 (a throwaway scratch database)
ACCOUNTS = 500
YEARS = range(2021, 2026)
CHUNK = 100_000

POST_SCRIPT = """
math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1000000))
local accounts = {%(accounts)s}
request = function()
  local debit = accounts[math.random(1, #accounts)]
  local credit = accounts[math.random(1, #accounts)]
  while credit == debit do credit = accounts[math.random(1, #accounts)] end
  local amount = string.format("%%d.%%02d", math.random(1, 99999), math.random(0, 99))
  local body = string.format(
    '{"document_date":"%(year)d-%%02d-%%02d","text":"Bench","post":true,"lines":['
    .. '{"account":"%%s","side":"debit","amount":"%%s"},'
    .. '{"account":"%%s","side":"credit","amount":"%%s"}]}',
    math.random(1, 12), math.random(1, 28), debit, amount, credit, amount)
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", "/api/v1/accounting/journal-entries", headers, body)
end
"""


def set_up_company(base: str, token: str) -> None:
    company = {
        "legal_name": "Bench Handels GmbH",
        "street": "Hauptstraße 5",
        "postal_code": "80331",
        "city": "München",
        "country": "DE",
        "chart": "skr03",
    }
    call(f"{base}/api/v1/accounting/company", body=company, method="PUT",
         headers={"Authorization": f"Bearer {token}"})  # fmt: skip


async def add_accounts(conn: asyncpg.Connection) -> list[tuple[uuid.UUID, str]]:
    """Accounts up to ACCOUNTS in all (free four-digit numbers, every type): ids and numbers."""
    taken = {r["number"] for r in await conn.fetch("SELECT number FROM accounting_account")}
    types = ["asset", "liability", "equity", "income", "expense"]
    free = (f"{n:04d}" for n in range(1000, 10_000) if f"{n:04d}" not in taken)
    new = [
        (uuid.uuid4(), number, f"Konto {number}", types[i % 5], f"Gruppe {i % 12}")
        for i, number in zip(range(ACCOUNTS - len(taken)), free, strict=False)
    ]
    await conn.copy_records_to_table(
        "accounting_account", records=new,
        columns=["id", "number", "name", "type", "report_group"],
    )  # fmt: skip
    rows = await conn.fetch("SELECT id, number FROM accounting_account ORDER BY number")
    return [(r["id"], r["number"]) for r in rows]


def _entries(year: int, count: int, first_number: int) -> Iterator[tuple[object, ...]]:
    start = date(year, 1, 1)
    days = sorted(random.randrange(365) for _ in range(count))
    stamp = datetime(year, 12, 31, tzinfo=UTC)
    for n, offset in enumerate(days, start=first_number):
        day = start + timedelta(days=offset)
        yield (uuid.uuid4(), "posted", "regular", "EUR", day, day, f"B-{n}", "Bench", year, n,
               "0" * 64, "0" * 64, "bench", stamp, "bench")  # fmt: skip


_ENTRY_COLUMNS = [
    "id", "status", "kind", "currency", "document_date", "posting_date", "document_ref", "text",
    "fiscal_year", "number", "previous_hash", "hash", "created_by", "posted_at", "posted_by",
]  # fmt: skip


async def load_lines(conn: asyncpg.Connection, lines: int, accounts: list[uuid.UUID]) -> None:
    """`lines` more journal lines (two per entry) over YEARS, with COPY, then the balances
    rebuilt from all lines, as the posting transaction would have kept them."""
    per_year = lines // 2 // len(YEARS)
    await conn.execute("SET session_replication_role = replica")  # no triggers, no FK checks
    for year in YEARS:
        last = await conn.fetchval(
            "SELECT coalesce(max(number), 0) FROM accounting_journal_entry WHERE fiscal_year = $1",
            year,
        )
        await conn.execute(
            "INSERT INTO accounting_fiscal_year (year, last_number) VALUES ($1, $2)"
            " ON CONFLICT (year) DO UPDATE SET last_number = excluded.last_number",
            year, last + per_year,
        )  # fmt: skip
        entries = list(_entries(year, per_year, last + 1))
        for i in range(0, len(entries), CHUNK):
            chunk = entries[i : i + CHUNK]
            await conn.copy_records_to_table(
                "accounting_journal_entry", records=chunk, columns=_ENTRY_COLUMNS
            )
            await conn.copy_records_to_table(
                "accounting_journal_line",
                records=_lines_of(chunk, accounts),
                columns=["entry_id", "line_no", "account_id", "amount"],
            )
    await conn.execute("SET session_replication_role = origin")
    await rebuild_balances(conn)


def _lines_of(
    entries: list[tuple[object, ...]], accounts: list[uuid.UUID]
) -> list[tuple[object, ...]]:
    records = []
    for entry in entries:
        debit, credit = random.sample(accounts, 2)
        amount = Decimal(random.randrange(1, 10_000_000)) / 100
        records += [(entry[0], 1, debit, amount), (entry[0], 2, credit, -amount)]
    return records


async def rebuild_balances(conn: asyncpg.Connection) -> None:
    for table, key in (("accounting_monthly_balance", "date_trunc('month', e.posting_date)::date"),
                       ("accounting_daily_balance", "e.posting_date")):  # fmt: skip
        await conn.execute(f"TRUNCATE {table}")
        await conn.execute(
            f"""INSERT INTO {table} SELECT {key}, l.account_id,
                  coalesce(sum(l.amount) FILTER (WHERE l.amount > 0), 0),
                  coalesce(-sum(l.amount) FILTER (WHERE l.amount < 0), 0)
                FROM accounting_journal_line l JOIN accounting_journal_entry e ON e.id = l.entry_id
               GROUP BY 1, 2"""  # noqa: S608 (constants)
        )
    await conn.execute("ANALYZE")


def _random_day() -> date:
    return date(random.choice(YEARS), 1, 1) + timedelta(days=random.randrange(365))


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(int(len(ordered) * 0.95) - 1, 0)]


def timed_gets(base: str, token: str, paths: list[str]) -> list[float]:
    """Milliseconds per GET, one at a time on one kept-alive connection."""
    parsed = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port)
    headers = {"Authorization": f"Bearer {token}"}
    took = []
    for path in paths:
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        took.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {body[:300]!r}")
    conn.close()
    return took


async def timed_group_by(database_url: str, days: list[date]) -> list[float]:
    conn = await asyncpg.connect(database_url)
    took = []
    try:
        for day in days:
            started = time.perf_counter()
            await conn.fetch(
                """SELECT l.account_id, coalesce(sum(l.amount) FILTER (WHERE l.amount > 0), 0),
                          coalesce(-sum(l.amount) FILTER (WHERE l.amount < 0), 0)
                     FROM accounting_journal_line l
                     JOIN accounting_journal_entry e ON e.id = l.entry_id
                    WHERE e.status = 'posted' AND e.posting_date BETWEEN $1 AND $2
                    GROUP BY l.account_id""",
                date(day.year, 1, 1), day,
            )  # fmt: skip
            took.append((time.perf_counter() - started) * 1000)
    finally:
        await conn.close()
    return took


def measure_reports(
    base: str, token: str, database_url: str, samples: int
) -> dict[str, tuple[float, float]]:
    reports = "/api/v1/accounting/reports"
    days = [_random_day() for _ in range(samples)]
    years = [random.choice(YEARS) for _ in range(samples)]
    timed_gets(base, token, [f"{reports}/trial-balance?as_of={d}" for d in days[:20]])  # warm up
    return {
        "trial_balance": percentiles(
            timed_gets(base, token, [f"{reports}/trial-balance?as_of={d}" for d in days])
        ),
        "profit_and_loss": percentiles(
            timed_gets(
                base,
                token,
                [f"{reports}/profit-and-loss?from={y}-01-01&to={y}-12-31" for y in years],
            )
        ),
        "group_by": percentiles(
            asyncio.run(timed_group_by(database_url, days[: max(samples // 10, 5)]))
        ),
    }


# Each variant posts into a fiscal year of its own: the balances of 2026 must add up afterwards.
VARIANTS = {"with_balances": ({}, 2026), "without_balances": ({WITHOUT_BALANCES: "1"}, 2027)}


def measure_posting(env: dict[str, str], tmp: Path, args: argparse.Namespace) -> dict[str, Load]:
    """Posted entries per second, with and without keeping the balances, in alternating rounds
    (a fresh server each round: the variant is chosen at start-up)."""
    numbers = asyncio.run(_account_numbers(env["DATABASE_URL"]))
    accounts = ", ".join(f'"{n}"' for n in numbers)
    runs: dict[str, list[Load]] = {name: [] for name in VARIANTS}
    for _ in range(args.rounds):
        for name, (extra, year) in VARIANTS.items():
            script = tmp / f"{name}.lua"
            script.write_text(POST_SCRIPT % {"accounts": accounts, "year": year})
            with serving(env | extra, args.workers) as server:
                target = Target(f"{server.base}/", sign_in(server.base), script, connections=16)
                wrk(target, 2, 16)
                runs[name].append(wrk(target, args.seconds, 16, server.pid))
    fields = Load.__dataclass_fields__
    return {
        name: Load(*(statistics.median(getattr(r, f) for r in loads) for f in fields))
        for name, loads in runs.items()
    }


async def _floor_worker(database_url: str, accounts: list[uuid.UUID], stop: float) -> int:
    """Postings by the app's own two statements (the draft with its lines; number, hash,
    balances and audit), straight through asyncpg: no HTTP, no authentication."""
    conn = await asyncpg.connect(database_url)
    insert, post, done = journal_repo._INSERT, journal_repo._POST, 0
    try:
        while time.perf_counter() < stop:
            entry_id, day = uuid.uuid4(), date(2028, random.randint(1, 12), random.randint(1, 28))
            amount = Decimal(random.randrange(1, 10_000_000)) / 100
            draft = {"id": entry_id, "kind": "regular", "currency": "EUR", "document_date": day,
                     "posting_date": day, "document_ref": None, "text": "Floor",
                     "source_type": None, "source_id": None, "reverses_id": None,
                     "created_by": "bench", "line_no": [1, 2],
                     "account_id": random.sample(accounts, 2), "amount": [amount, -amount],
                     "fiscal_year": 2028}  # fmt: skip
            posting = {"entry_id": entry_id, "fiscal_year": 2028, "posted_by": "bench",
                       "month": day.replace(day=1), "day": day, "audit_id": uuid.uuid4(),
                       "audit_action": "accounting.journal_entry.post", "audit_after": "{}",
                       "request_id": None}  # fmt: skip
            async with conn.transaction():
                await conn.fetchrow(insert.sql, *insert._arguments(draft))
                await conn.fetchrow(post.sql, *post._arguments(posting))
            done += 1
    finally:
        await conn.close()
    return done


async def posting_floor(database_url: str, seconds: int) -> float:
    """Posted entries per second at 16 connections without the API: what any request path
    over these statements can reach on this machine, in fiscal year 2028."""
    conn = await asyncpg.connect(database_url)
    try:
        accounts = [r["id"] for r in await conn.fetch("SELECT id FROM accounting_account")]
        await conn.execute("INSERT INTO accounting_fiscal_year (year) VALUES (2028)"
                           " ON CONFLICT DO NOTHING")  # fmt: skip
    finally:
        await conn.close()
    stop = time.perf_counter() + seconds
    done = await asyncio.gather(*(_floor_worker(database_url, accounts, stop) for _ in range(16)))
    return sum(done) / seconds


def sign_in(base: str) -> str:
    form = {"grant_type": "password", "username": EMAIL, "password": PASSWORD}
    return str(call(f"{base}/api/v1/auth/token", form=form)["access_token"])


async def _connect_and(
    database_url: str, lines: int, accounts: list[uuid.UUID] | None
) -> list[uuid.UUID]:
    conn = await asyncpg.connect(database_url)
    try:
        ids = accounts or [i for i, _ in await add_accounts(conn)]
        started = time.perf_counter()
        await load_lines(conn, lines, ids)
        total = await conn.fetchval("SELECT count(*) FROM accounting_journal_line")
        print(f"loaded {lines:,} lines in {time.perf_counter() - started:.0f} s ({total:,} in all)")
        return ids
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", default="1000000,5000000", help="sizes to measure at")
    parser.add_argument("--samples", type=int, default=200, help="report requests per size")
    parser.add_argument("--seconds", type=int, default=5, help="per posting round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=default_workers(), help="uvicorn workers")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    sizes = [int(n) for n in args.lines.split(",")]
    with tempfile.TemporaryDirectory() as tmp, scratch_env() as env:
        with serving(env, args.workers) as server:
            sign_in_admin(server, EMAIL, PASSWORD)
            set_up_company(server.base, sign_in(server.base))
        database_url = env["DATABASE_URL"]
        accounts: list[uuid.UUID] | None = None
        reports: dict[int, dict[str, tuple[float, float]]] = {}
        loaded = 0
        for size in sizes:
            accounts = asyncio.run(_connect_and(database_url, size - loaded, accounts))
            loaded = size
            with serving(env, args.workers) as server:
                reports[size] = measure_reports(
                    server.base, sign_in(server.base), database_url, args.samples
                )
        posting = measure_posting(env, Path(tmp), args)
        floor = statistics.median(
            asyncio.run(posting_floor(database_url, args.seconds)) for _ in range(args.rounds)
        )
        problems = asyncio.run(_check_books(database_url))
    _report(reports, posting, floor, args)
    if problems:
        sys.exit("BOOKS WRONG: " + "; ".join(problems))


async def _account_numbers(database_url: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT number FROM accounting_account WHERE is_active")
        return [r["number"] for r in rows]
    finally:
        await conn.close()


async def _check_books(database_url: str) -> list[str]:
    """After the postings through the API: every entry balances, the numbers of 2026 have no
    gaps and its chain holds, and the kept balances of 2026 equal its lines."""
    conn = await asyncpg.connect(database_url)
    try:
        problems = []
        posted, highest = await conn.fetchrow(
            "SELECT count(*), coalesce(max(number), 0) FROM accounting_journal_entry"
            " WHERE fiscal_year = 2026"
        )
        print(f"after the run: {posted:,} entries posted through the API into 2026")
        if posted != highest:
            problems.append(f"2026 holds {posted} entries numbered up to {highest}")
        unbalanced = await conn.fetchval(
            "SELECT count(*) FROM (SELECT entry_id FROM accounting_journal_line"
            " GROUP BY entry_id HAVING sum(amount) <> 0) u"
        )
        if unbalanced:
            problems.append(f"{unbalanced} entries do not balance")
        broken = await conn.fetchval(
            """SELECT count(*) FROM (SELECT hash, previous_hash,
                 lag(hash, 1, '') OVER (ORDER BY number) AS before,
                 accounting_entry_hash(id, fiscal_year, number, previous_hash) AS again
               FROM accounting_journal_entry WHERE fiscal_year = 2026) c
               WHERE previous_hash <> before OR hash <> again"""
        )
        if broken:
            problems.append(f"{broken} entries of 2026 break the hash chain")
        drift = await conn.fetchval(
            """SELECT count(*) FROM accounting_monthly_balance b FULL JOIN (
                 SELECT date_trunc('month', e.posting_date)::date AS month, l.account_id,
                        sum(l.amount) AS net
                   FROM accounting_journal_line l
                   JOIN accounting_journal_entry e ON e.id = l.entry_id
                  WHERE e.fiscal_year = 2026 GROUP BY 1, 2) l USING (month, account_id)
               WHERE (date_part('year', b.month) = 2026 OR l.month IS NOT NULL)
                 AND (b.debit - b.credit) IS DISTINCT FROM l.net"""
        )
        if drift:
            problems.append(f"{drift} monthly balances of 2026 differ from the lines")
        return problems
    finally:
        await conn.close()


def _report(
    reports: dict[int, dict[str, tuple[float, float]]],
    posting: dict[str, Load],
    floor: float,
    args: argparse.Namespace,
) -> None:
    print(f"\nledger bench, {args.workers} worker(s), {args.samples} report requests per size")
    print(f"{'lines':>10} {'report':<16} {'p50 ms':>8} {'p95 ms':>8}")
    for size, measured in reports.items():
        for name, (p50, p95) in measured.items():
            print(f"{size:>10,} {name:<16} {p50:>8.1f} {p95:>8.1f}")
    with_, without = posting["with_balances"], posting["without_balances"]
    print(f"\nposting, 16 connections, median of {args.rounds} rounds of {args.seconds} s:")
    for label, load in (("with the balances kept", with_), ("without (baseline)", without)):
        print(f"  {label:<24} {load.rps:>7.0f} entries/s  p50 {load.p50_ms:.1f} ms"
              f"  p99 {load.p99_ms:.1f} ms  app {load.server_cpu_us:.0f} us"
              f"  db {load.db_cpu_us:.0f} us per entry")  # fmt: skip
    print(f"  the balances cost {(without.rps / with_.rps - 1) * 100:.1f} % per posting")
    print(f"  floor: the same statements by asyncpg, no HTTP: {floor:.0f} entries/s"
          f" (the API: {with_.rps / floor:.2f} x floor)")  # fmt: skip
    figures = {"reports": {str(k): v for k, v in reports.items()},
               "posting": {k: v.rps for k, v in posting.items()} | {"floor": floor}}  # fmt: skip
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
