"""The journal stays gap-free, chained and balanced when many accountants post at once, some
postings fail and a month closes in the middle, and the company's settings cannot change
under a booking in flight (real commits, separate connections)."""

from __future__ import annotations

import asyncio
import random
from datetime import date, datetime
from decimal import Decimal

import httpx
from fastapi import FastAPI

from app.domain.accounting import journal
from app.domain.accounting.journal import EntryData
from app.domain.accounting.rules import Line, Side
from app.domain.actor import Actor
from tests.factories.accounting import (
    COMPANY,
    ENTRIES,
    company_body,
    entry_body,
    line,
    set_up_company,
)
from tests.factories.identity import auth_headers

API = "/api/v1/accounting"


async def test_concurrent_postings_keep_numbers_gap_free_and_the_chain_whole(
    committed_app: FastAPI, committed_client: httpx.AsyncClient
) -> None:
    client = committed_client
    accountant = await auth_headers(committed_app, "accountant")
    await set_up_company(client, accountant)
    rng = random.Random(9)

    def posting(n: int) -> dict[str, object]:
        month = rng.choice([3, 4])
        amount = f"{rng.randint(1, 9999)}.{rng.randint(0, 99):02}"
        accounts = ["1000", "1200", "8400"] if n % 10 else ["1000", "0000"]  # some unknown
        debit, credit = rng.sample(accounts, 2)
        lines = [line(debit, "debit", amount), line(credit, "credit", amount)]
        return entry_body(day=f"2026-{month:02}-{rng.randint(1, 28):02}", lines=lines) | {
            "post": True
        }

    async def post(body: dict[str, object]) -> httpx.Response:
        return await client.post(ENTRIES, json=body, headers=accountant)

    async def close_march() -> httpx.Response:
        await asyncio.sleep(0.05)
        return await client.post(f"{API}/periods/2026-03/close", headers=accountant)

    *responses, closed = await asyncio.gather(*(post(posting(n)) for n in range(80)), close_march())
    assert closed.status_code == 200, closed.text
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409}, [r.text for r in responses if r.status_code >= 500]
    posted = [r.json() for r in responses if r.status_code == 201]
    assert len(posted) >= 40

    numbers = sorted(e["number"] for e in posted)
    assert numbers == list(range(1, len(posted) + 1)), "numbers have gaps or repeat"
    by_number = {e["number"]: e for e in posted}
    for number in numbers[1:]:
        assert by_number[number]["previous_hash"] == by_number[number - 1]["hash"]
    # Nothing was posted into March once it was closed.
    closed_at = datetime.fromisoformat(closed.json()["closed_at"])
    march = [e for e in posted if e["posting_date"] < "2026-04-01"]
    assert all(datetime.fromisoformat(e["posted_at"]) <= closed_at for e in march)

    verdict = (await client.get(f"{API}/integrity", headers=accountant)).json()
    assert (verdict["intact"], verdict["entries_checked"]) == (True, len(posted))
    trial = await client.get(
        f"{API}/reports/trial-balance", params={"as_of": "2026-12-31"}, headers=accountant
    )
    assert trial.json()["debit"] == trial.json()["credit"]


async def test_a_company_change_waits_for_a_first_booking_in_flight_and_then_sees_it(
    committed_app: FastAPI, committed_client: httpx.AsyncClient
) -> None:
    """The fiscal year's start month is fixed once anything is booked. A change racing the
    first booking must not slip past it: the entry would sit in a fiscal year of the old
    start month."""
    accountant = await auth_headers(committed_app, "accountant")
    await set_up_company(committed_client, accountant)
    data = EntryData(
        document_date=date(2026, 3, 15),
        text="Barverkauf",
        lines=[
            Line("1000", Side.debit, Decimal("119.00")),
            Line("8400", Side.credit, Decimal("100.00")),
            Line("1776", Side.credit, Decimal("19.00")),
        ],
    )
    async with committed_app.state.db.sessions() as booking, booking.begin():
        await journal.create_entry(booking, Actor("user:test"), data, post=True)
        change = asyncio.create_task(
            committed_client.put(
                COMPANY, json=company_body(fiscal_year_start_month=7), headers=accountant
            )
        )
        await asyncio.sleep(0.5)
        assert not change.done(), "the change did not wait for the booking in flight"
    changed = await change
    assert changed.status_code == 409, changed.text
    assert "fiscal_year_start_month" in changed.json()["detail"]
    company = await committed_client.get(COMPANY, headers=accountant)
    assert company.json()["fiscal_year_start_month"] == 1
