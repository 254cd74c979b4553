"""Periods and fiscal years: a closed month takes no postings and is reopened by a second
person; a year-end closing carries the balances and the result into the next year."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AuditEvent
from tests.factories.accounting import ENTRIES, book, entry_body, line, set_up_company
from tests.factories.identity import auth_headers

API = "/api/v1/accounting"


async def test_a_closed_month_refuses_postings_until_a_second_person_reopens_it(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, accountant: dict[str, str]
) -> None:
    closed = await client.post(f"{API}/periods/2026-03/close", headers=accountant)
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["ends_on"]) == ("closed", "2026-03-31")
    refused = await client.post(
        ENTRIES, json=entry_body(day="2026-03-31") | {"post": True}, headers=accountant
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["errors"][0]["pointer"] == "/posting_date"
    assert refused.json()["detail"].startswith("2026-03 is closed")
    draft = await book(client, accountant, post=False, day="2026-03-05")
    assert (
        await client.post(f"{ENTRIES}/{draft['id']}/post", headers=accountant)
    ).status_code == 409
    await book(client, accountant, day="2026-04-01")  # the next month is open

    listed = await client.get(f"{API}/periods", params={"fiscal_year": 2026}, headers=accountant)
    assert [p["month"] for p in listed.json() if p["status"] == "closed"] == ["2026-03"]
    own = await client.post(f"{API}/periods/2026-03/reopen", headers=accountant)
    assert own.status_code == 409
    assert "four eyes" in own.json()["detail"]
    colleague = await auth_headers(app, "accountant")
    reopened = await client.post(f"{API}/periods/2026-03/reopen", headers=colleague)
    assert reopened.status_code == 200, reopened.text
    assert (
        await client.post(f"{ENTRIES}/{draft['id']}/post", headers=accountant)
    ).status_code == 200

    actions = set((await session.scalars(select(AuditEvent.action))).all())
    assert {"accounting.period.close", "accounting.period.reopen"} <= actions


async def test_closing_a_fiscal_year_carries_its_balances_and_result_forward(
    app: FastAPI, client: httpx.AsyncClient, accountant: dict[str, str]
) -> None:
    await book(
        client,
        accountant,
        day="2026-02-01",
        text="Einlage",
        lines=[line("1200", "debit", "10000.00"), line("0800", "credit", "10000.00")],
    )
    await book(client, accountant, day="2026-03-15")  # cash sale: 100.00 net, 19.00 VAT
    await book(client, accountant, day="2026-06-30", text="Miete", lines=[
        line("4210", "debit", "40.00"), line("1200", "credit", "40.00")])  # fmt: skip
    draft = await book(client, accountant, post=False, day="2026-07-01")

    early = await client.post(f"{API}/fiscal-years/2026/close", headers=accountant)
    assert early.status_code == 409
    assert "2026-01" in early.json()["detail"]
    for month in range(1, 13):
        await client.post(f"{API}/periods/2026-{month:02}/close", headers=accountant)
    with_draft = await client.post(f"{API}/fiscal-years/2026/close", headers=accountant)
    assert with_draft.status_code == 409
    assert "draft" in with_draft.json()["detail"]
    await client.delete(f"{ENTRIES}/{draft['id']}", headers=accountant)

    done = await client.post(f"{API}/fiscal-years/2026/close", headers=accountant)
    assert done.status_code == 200, done.text
    assert done.json()["fiscal_year"]["status"] == "closed"
    opening = done.json()["opening_entry"]
    assert (opening["kind"], opening["fiscal_year"], opening["posting_date"]) == (
        "opening",
        2027,
        "2027-01-01",
    )
    signed = {x["account"]: Decimal(x["amount"]) * (1 if x["side"] == "debit" else -1)
              for x in opening["lines"]}  # fmt: skip
    assert signed == {
        "1000": Decimal("119.00"),
        "1200": Decimal("9960.00"),
        "0800": Decimal("-10000.00"),
        "1776": Decimal("-19.00"),
        "0860": Decimal("-60.00"),  # the profit: 100.00 revenue less 40.00 rent
    }
    for day, why in [
        ("2026-12-31", "fiscal year 2026 is closed"),
        ("2025-05-15", "fiscal year 2026 is closed and carried the balances forward"),
    ]:  # the closed year, and one before it
        late = await client.post(
            ENTRIES, json=entry_body(day=day) | {"post": True}, headers=accountant
        )
        assert late.status_code == 409, (day, late.text)
        assert late.json()["detail"].startswith(why), late.text
    colleague = await auth_headers(app, "accountant")
    assert (
        await client.post(f"{API}/periods/2026-12/reopen", headers=colleague)
    ).status_code == 409
    assert (
        await client.post(f"{API}/fiscal-years/2026/close", headers=accountant)
    ).status_code == 409
    years = (await client.get(f"{API}/fiscal-years", headers=accountant)).json()
    assert [(y["fiscal_year"], y["status"]) for y in years] == [(2026, "closed"), (2027, "open")]
    reversal = await client.post(
        f"{ENTRIES}/{opening['id']}/reverse",
        json={"posting_date": "2027-01-02"},
        headers=accountant,
    )
    assert reversal.status_code == 409, reversal.text
    assert "opening entry" in reversal.json()["detail"]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE accounting_fiscal_year SET closed_at = NULL WHERE year = 2026",
        "UPDATE accounting_fiscal_year SET closed_months = '{}' WHERE year = 2026",
        "UPDATE accounting_fiscal_year SET last_number = 0 WHERE year = 2027",
        "DELETE FROM accounting_fiscal_year WHERE year = 2027",
    ],
)
async def test_the_database_keeps_a_closed_year_closed_and_a_counter_from_going_back(
    client: httpx.AsyncClient, session: AsyncSession, accountant: dict[str, str], statement: str
) -> None:
    await book(client, accountant, day="2026-03-15")
    for month in range(1, 13):
        await client.post(f"{API}/periods/2026-{month:02}/close", headers=accountant)
    closed = await client.post(f"{API}/fiscal-years/2026/close", headers=accountant)
    assert closed.status_code == 200, closed.text
    with pytest.raises(DBAPIError, match="is not allowed"):
        async with session.begin_nested():
            await session.execute(text(statement))


async def test_every_month_that_can_be_closed_lies_in_a_fiscal_year_the_year_routes_take(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """The books' first and last months, with fiscal years from July: 1900-01 is in fiscal
    year 1899, 2999-12 in 2999; a month before the books' dates is no period (422)."""
    headers = await auth_headers(app, "accountant")
    await set_up_company(client, headers, fiscal_year_start_month=7)
    for month in ["1900-01", "2999-12"]:
        closed = await client.post(f"{API}/periods/{month}/close", headers=headers)
        assert closed.status_code == 200, closed.text
    years = await client.get(f"{API}/fiscal-years", headers=headers)
    assert [y["fiscal_year"] for y in years.json()] == [1899, 2999]
    for year in (1899, 2999):
        periods = await client.get(f"{API}/periods", params={"fiscal_year": year}, headers=headers)
        assert periods.status_code == 200, periods.text
        closing = await client.post(f"{API}/fiscal-years/{year}/close", headers=headers)
        assert closing.status_code == 409, closing.text  # its other months are open
    assert (await client.post(f"{API}/periods/1899-12/close", headers=headers)).status_code == 422
