"""The journal stays gap-free, chained and balanced when many accountants post at once, some
postings fail and a month closes in the middle (real commits, separate connections)."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime

import httpx
from fastapi import FastAPI

from tests.factories.accounting import ENTRIES, entry_body, line, set_up_company
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
