"""The exports to the tax advisor and the tax auditor at a million journal lines.

Loads posted entries of two lines each over five fiscal years (2021-2025, as bench/ledger.py
does), then downloads, one request at a time through one uvicorn worker:

  gdpdu 1 year    GET /accounting/exports/gdpdu for 2025 (a tax audit's usual span)
  gdpdu 5 years   GET /accounting/exports/gdpdu for 2021-2025
  datev 1 month   GET /accounting/exports/datev for December 2025 (a batch takes 99,999)

and prints for each the time, the size and the server's peak resident memory (sampled every
20 ms), against the floor: the same journal lines (entry, line, account) read by one COPY
straight from PostgreSQL, which is what any export must at least do. Meanwhile a neighbour
calls GET /healthz on the same worker every 10 ms: its p50/p99 latency during the export,
against the same calls with no export running, shows whether the export holds the event loop
up for everyone else.

Usage: .venv/bin/python bench/exports.py [--lines 1000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import statistics
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from harness import Server, scratch_env, serving, sign_in_admin
from ledger import EMAIL, PASSWORD, add_accounts, load_lines, set_up_company

EXPORTS = {
    "gdpdu 1 year": "gdpdu?from=2025-01-01&to=2025-12-31",
    "gdpdu 5 years": "gdpdu?from=2021-01-01&to=2025-12-31",
    "datev 1 month": "datev?from=2025-12-01&to=2025-12-31",
}
# What every export reads: each posted line with its entry and its account's number.
FLOOR_QUERY = """
  SELECT e.fiscal_year, e.number, e.document_date, e.posting_date, e.document_ref, e.text,
         l.line_no, a.number, l.amount
    FROM accounting_journal_entry e
    JOIN accounting_journal_line l ON l.entry_id = e.id
    JOIN accounting_account a ON a.id = l.account_id
   WHERE e.status = 'posted' AND e.posting_date BETWEEN '{first}' AND '{last}'
   ORDER BY e.fiscal_year, e.number, l.line_no"""


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@contextmanager
def repeating(step: Callable[[], None], every: float) -> Iterator[None]:
    """`step()` every `every` seconds in a thread of its own while the block runs."""
    done = threading.Event()

    def run() -> None:
        while not done.wait(every):
            step()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        yield
    finally:
        done.set()
        worker.join()


@contextmanager
def peak_rss(pid: int) -> Iterator[list[int]]:
    """The highest resident memory of `pid` while the block runs, in KiB (in the list)."""
    peak = [_rss_kib(pid)]

    def sample() -> None:
        peak[0] = max(peak[0], _rss_kib(pid))

    with repeating(sample, 0.02):
        yield peak


def download(url: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (the local server)
    size = 0
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
        while chunk := response.read(1 << 16):
            size += len(chunk)
    return size


async def load(database_url: str, lines: int) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        accounts = [i for i, _ in await add_accounts(conn)]
        started = time.perf_counter()
        await load_lines(conn, lines, accounts)
        print(f"loaded {lines:,} lines in {time.perf_counter() - started:.0f} s")
    finally:
        await conn.close()


async def floor_seconds(database_url: str, query: str) -> float:
    """Seconds to read the export's lines with one COPY, the output thrown away."""
    conn = await asyncpg.connect(database_url)
    try:
        started = time.perf_counter()
        await conn.copy_from_query(query, output=lambda _chunk: asyncio.sleep(0))
        return time.perf_counter() - started
    finally:
        await conn.close()


def _span(path: str) -> tuple[str, str]:
    query = dict(part.split("=") for part in path.split("?")[1].split("&"))
    return query["from"], query["to"]


@dataclass(frozen=True, slots=True)
class Measured:
    seconds: float
    floor_seconds: float
    size: int
    peak_kib: int
    neighbour_ms: tuple[float, float]  # p50, p99 of /healthz during the export


@contextmanager
def neighbour(base: str) -> Iterator[list[float]]:
    """Latencies (ms) of GET /healthz, one call every 10 ms, while the block runs."""
    latencies: list[float] = []
    connection = http.client.HTTPConnection(base.removeprefix("http://"), timeout=60)

    def call() -> None:
        started = time.perf_counter()
        connection.request("GET", "/healthz")
        connection.getresponse().read()
        latencies.append((time.perf_counter() - started) * 1000)

    try:
        with repeating(call, 0.01):
            yield latencies
    finally:
        connection.close()


def _p50_p99(latencies: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49], cuts[98]


def idle_neighbour_ms(base: str, seconds: float = 3) -> tuple[float, float]:
    with neighbour(base) as latencies:
        time.sleep(seconds)
    return _p50_p99(latencies)


def measure(server: Server, token: str, path: str, rounds: int) -> Measured:
    """The median download time and the floor's over `rounds`, interleaved, and the peak RSS."""
    first, last = _span(path)
    query = FLOOR_QUERY.format(first=first, last=last)
    times, floors, peaks, size, latencies = [], [], [], 0, []
    for _ in range(rounds):
        floors.append(asyncio.run(floor_seconds(server.database_url, query)))
        started = time.perf_counter()
        with peak_rss(server.pid) as peak, neighbour(server.base) as during:
            size = download(f"{server.base}/api/v1/accounting/exports/{path}", token)
        times.append(time.perf_counter() - started)
        peaks.append(peak[0])
        latencies += during
    return Measured(
        statistics.median(times),
        statistics.median(floors),
        size,
        max(peaks),
        _p50_p99(latencies),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with scratch_env() as env, serving(env) as server:
        _, token = sign_in_admin(server, EMAIL, PASSWORD)
        set_up_company(server.base, token)
        asyncio.run(load(server.database_url, args.lines))
        idle = idle_neighbour_ms(server.base)
        results = {
            name: measure(server, token, path, args.rounds) for name, path in EXPORTS.items()
        }
    print(f"\nexports bench, {args.lines:,} lines over 2021-2025, one worker, {args.rounds} rounds")
    print(
        f"{'export':<14} {'seconds':>8} {'floor s':>8} {'x floor':>8} {'MB out':>7}"
        f" {'RSS MB':>7} {'nb p50 ms':>10} {'nb p99 ms':>10}"
    )
    for name, m in results.items():
        print(
            f"{name:<14} {m.seconds:>8.2f} {m.floor_seconds:>8.2f}"
            f" {m.seconds / m.floor_seconds:>8.1f} {m.size / 1e6:>7.1f} {m.peak_kib / 1024:>7.0f}"
            f" {m.neighbour_ms[0]:>10.1f} {m.neighbour_ms[1]:>10.1f}"
        )
    print(f"{'no export':<55} {idle[0]:>10.1f} {idle[1]:>10.1f}")
    print("floor: the same lines read by one COPY from PostgreSQL; RSS: the server's peak;")
    print("nb: a neighbour's GET /healthz on the same worker, one every 10 ms")


if __name__ == "__main__":
    main()
