"""The demo books: a year of postings on SKR03 that the reports show, loaded once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import JournalEntry
from app.devdata.accounting import load_demo_accounting
from tests.factories.identity import auth_headers

REPORTS = "/api/v1/accounting/reports"


async def test_the_demo_books_show_a_profitable_year_and_load_once(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    posted = await load_demo_accounting(session, today=date(2026, 12, 3))
    assert posted == 1 + 12 * 10
    assert await load_demo_accounting(session, today=date(2026, 12, 3)) == 0
    count = select(func.count()).select_from(JournalEntry)
    assert await session.scalar(count) == posted

    auditor = await auth_headers(app, "auditor")
    pnl = (
        await client.get(
            f"{REPORTS}/profit-and-loss",
            params={"from": "2025-01-01", "to": "2025-12-31"},
            headers=auditor,
        )
    ).json()
    assert Decimal(pnl["income"]["total"]) > Decimal(pnl["expenses"]["total"]) > 0
    sheet = (
        await client.get(
            f"{REPORTS}/balance-sheet", params={"as_of": "2025-12-31"}, headers=auditor
        )
    ).json()
    assert sheet["result"] == pnl["result"]
    assert sheet["total_assets"] == sheet["total_equity_and_liabilities"]
    integrity = (await client.get("/api/v1/accounting/integrity", headers=auditor)).json()
    assert (integrity["intact"], integrity["entries_checked"]) == (True, posted)
