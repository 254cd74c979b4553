"""A company on a German chart, and journal entries to book in it."""

from __future__ import annotations

from typing import Any

import httpx

COMPANY = "/api/v1/accounting/company"
ENTRIES = "/api/v1/accounting/journal-entries"


def company_body(**overrides: Any) -> dict[str, Any]:
    return {
        "legal_name": "Muster Handels GmbH",
        "street": "Hauptstraße 5",
        "postal_code": "80331",
        "city": "München",
        "country": "DE",
        "tax_number": "143/815/08150",
        "vat_id": "DE136695976",
        "chart": "skr03",
    } | overrides


async def set_up_company(
    client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    made = await client.put(COMPANY, json=company_body(**overrides), headers=headers)
    assert made.status_code == 201, made.text
    company: dict[str, Any] = made.json()
    return company


def line(account: str, side: str, amount: str, **extra: Any) -> dict[str, Any]:
    return {"account": account, "side": side, "amount": amount} | extra


def sale(gross: str = "119.00", net: str = "100.00", vat: str = "19.00") -> list[dict[str, Any]]:
    """SKR03: a cash sale at 19 % (Kasse to Erlöse and Umsatzsteuer)."""
    return [line("1000", "debit", gross), line("8400", "credit", net), line("1776", "credit", vat)]


def entry_body(day: str = "2026-03-15", **overrides: Any) -> dict[str, Any]:
    return {
        "document_date": day,
        "text": "Barverkauf",
        "document_ref": "KB-0001",
        "lines": sale(),
    } | overrides


async def book(
    client: httpx.AsyncClient, headers: dict[str, str], *, post: bool = True, **overrides: Any
) -> dict[str, Any]:
    """Posts (or drafts) an entry; fails the test unless it is stored."""
    made = await client.post(
        ENTRIES, json=entry_body(**overrides) | {"post": post}, headers=headers
    )
    assert made.status_code == 201, made.text
    entry: dict[str, Any] = made.json()
    return entry
