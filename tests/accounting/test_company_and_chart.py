"""The company and its chart of accounts: set up once from SKR03, SKR04 or a generic chart;
accounts added, renamed and deactivated, never renumbered."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AuditEvent
from app.domain.accounting.charts import Chart, template
from tests.factories.accounting import COMPANY, company_body, entry_body, line
from tests.factories.identity import auth_headers

ACCOUNTS = "/api/v1/accounting/accounts"
# Accounts every German trading company books to, with DATEV's numbers in each chart.
STANDARD_NUMBERS = {
    "Kasse": ("1000", "1600"),
    "Bank": ("1200", "1800"),
    "Forderungen aus Lieferungen und Leistungen": ("1400", "1200"),
    "Verbindlichkeiten aus Lieferungen und Leistungen": ("1600", "3300"),
    "Abziehbare Vorsteuer 19 %": ("1576", "1406"),
    "Abziehbare Vorsteuer 7 %": ("1571", "1401"),
    "Umsatzsteuer 19 %": ("1776", "3806"),
    "Umsatzsteuer 7 %": ("1771", "3801"),
    "Erlöse 19 % USt": ("8400", "4400"),
    "Erlöse 7 % USt": ("8300", "4300"),
    "Wareneingang 19 % Vorsteuer": ("3400", "5400"),
    "Gezeichnetes Kapital": ("0800", "2900"),
    "Saldenvorträge, Sachkonten": ("9000", "9000"),
}


async def _all_accounts(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    listed = await client.get(ACCOUNTS, params={"limit": 500}, headers=headers)
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


@pytest.mark.parametrize("chart", list(Chart))
def test_each_chart_file_holds_distinct_well_formed_accounts(chart: Chart) -> None:
    accounts = template(chart)
    numbers = [a.number for a in accounts]
    assert len(numbers) == len(set(numbers)) >= 20
    assert all(n.isdigit() and len(n) == 4 for n in numbers)
    assert {a.type.value for a in accounts} == {"asset", "liability", "equity", "income", "expense"}


@pytest.mark.parametrize(("chart", "column"), [(Chart.skr03, 0), (Chart.skr04, 1)])
def test_the_german_charts_carry_datev_numbers(chart: Chart, column: int) -> None:
    by_name = {a.name: a.number for a in template(chart)}
    assert {name: numbers[column] for name, numbers in STANDARD_NUMBERS.items()} == {
        name: by_name.get(name) for name in STANDARD_NUMBERS
    }


async def test_setting_the_company_up_creates_its_chart_once(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    accountant = await auth_headers(app, "accountant")
    assert (await client.get(COMPANY, headers=accountant)).status_code == 404

    made = await client.put(COMPANY, json=company_body(), headers=accountant)
    assert made.status_code == 201, made.text
    assert made.json()["base_currency"] == "EUR"
    accounts = await _all_accounts(client, accountant)
    assert len(accounts) == len(template(Chart.skr03))
    revenue = next(a for a in accounts if a.get("number") == "8400")
    assert (revenue["name"], revenue["type"], revenue["tax_key"]) == (
        "Erlöse 19 % USt",
        "income",
        "USt19",
    )

    moved = await client.put(
        COMPANY,
        json=company_body(city="Köln", postal_code="50667"),
        headers={**accountant, "If-Match": made.headers["etag"]},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["city"] == "Köln"
    stale = await client.put(
        COMPANY, json=company_body(), headers={**accountant, "If-Match": made.headers["etag"]}
    )
    assert stale.status_code == 412
    # Nothing is booked yet: the chart can still be exchanged, whole.
    switched = await client.put(COMPANY, json=company_body(chart="skr04"), headers=accountant)
    assert switched.status_code == 200, switched.text
    assert switched.json()["chart"] == "skr04"
    numbers = {a["number"] for a in await _all_accounts(client, accountant)}
    assert numbers == {a.number for a in template(Chart.skr04)}

    booked = await client.post(
        "/api/v1/accounting/journal-entries",
        json=entry_body(lines=[line("1600", "debit", "5.00"), line("1800", "credit", "5.00")]),
        headers=accountant,
    )  # a draft is enough: it names accounts of the chart
    assert booked.status_code == 201, booked.text
    for change in ({"chart": "skr03"}, {"fiscal_year_start_month": 7}, {"base_currency": "CHF"}):
        refused = await client.put(COMPANY, json=company_body(chart="skr04") | change,
                                   headers=accountant)  # fmt: skip
        assert refused.status_code == 409, (change, refused.text)
    assert len(await _all_accounts(client, accountant)) == len(template(Chart.skr04))

    actions = (await session.scalars(select(AuditEvent.action))).all()
    assert {"accounting.company.set_up", "accounting.company.update",
            "accounting.company.switch_chart"} <= set(actions)  # fmt: skip


async def test_accounts_are_added_renamed_and_deactivated_never_renumbered(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    accountant = await auth_headers(app, "accountant")
    body = {"number": "8401", "name": "Erlöse Webshop 19 % USt", "type": "income",
            "report_group": "Umsatzerlöse", "tax_key": "USt19"}  # fmt: skip
    early = await client.post(ACCOUNTS, json=body, headers={**accountant, "Idempotency-Key": "a0"})
    assert early.status_code == 409  # no company, no chart yet
    await client.put(COMPANY, json=company_body(chart="skr04"), headers=accountant)

    made = await client.post(ACCOUNTS, json=body, headers={**accountant, "Idempotency-Key": "a1"})
    assert made.status_code == 201, made.text
    taken = await client.post(
        ACCOUNTS, json=body | {"name": "Doppelt"}, headers={**accountant, "Idempotency-Key": "a2"}
    )
    assert taken.status_code == 409

    location = made.headers["location"]
    changed = await client.patch(
        location,
        json={"name": "Erlöse Online-Shop 19 % USt", "tax_key": None, "is_active": False},
        headers=accountant,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["tax_key"], changed.json()["is_active"]) == (
        "Erlöse Online-Shop 19 % USt",
        None,
        False,
    )
    renumber = await client.patch(location, json={"number": "8402"}, headers=accountant)
    assert renumber.status_code == 422
    inactive = await client.get(ACCOUNTS, params={"is_active": "false"}, headers=accountant)
    assert [a["number"] for a in inactive.json()["items"]] == ["8401"]


async def test_auditors_read_the_chart_and_change_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await client.put(COMPANY, json=company_body(), headers=await auth_headers(app, "accountant"))
    auditor = await auth_headers(app, "auditor")
    assert (await client.get(COMPANY, headers=auditor)).status_code == 200
    assert len(await _all_accounts(client, auditor)) == len(template(Chart.skr03))
    refused = await client.put(COMPANY, json=company_body(city="Köln"), headers=auditor)
    assert refused.status_code == 403
