"""An export holds the books of the moment it began: what is posted while its pages are read
(on real commits) stays out of it, even where it would land after the page being read."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.db.repositories.accounting import exports as exports_repo
from app.domain.accounting import exports
from tests.conftest import CommittedApp
from tests.factories.accounting import COMPANY, book, company_body, set_up_company
from tests.factories.identity import auth_headers

GDPDU = "/api/v1/accounting/exports/gdpdu"


async def test_what_is_posted_during_a_gdpdu_export_stays_out_of_it(
    committed_app: FastAPI, committed_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = await auth_headers(committed_app, "accountant")
    await set_up_company(committed_client, headers)
    before = [await book(committed_client, headers, day=f"2026-03-0{d}") for d in (2, 3, 4)]
    read_page = exports_repo.journal_page
    during: list[dict[str, Any]] = []

    async def page_then_post(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        rows = await read_page(*args, **kwargs)
        if not during:  # after the first page: numbered 4, so after every page to come
            during.append(await book(committed_client, headers, day="2026-03-05"))
        return rows

    monkeypatch.setattr(exports, "_PAGE_ENTRIES", 1)
    monkeypatch.setattr(exports_repo, "journal_page", page_then_post)
    got = await committed_client.get(
        GDPDU, params={"from": "2026-03-01", "to": "2026-03-31"}, headers=headers
    )
    assert got.status_code == 200, got.text
    assert during, "the export read no page"
    text = zipfile.ZipFile(io.BytesIO(got.content)).read("buchungen.csv").decode()
    numbers = [record.split(";")[1] for record in text.splitlines()[1:]]
    assert numbers == [str(e["number"]) for e in before]
    assert during[0]["number"] == 4


async def test_a_company_change_during_an_export_does_not_wait_for_it(
    committed_app_with: CommittedApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The company change locks the company table; an export holding a lock on it for its
    whole snapshot would keep the change (and every booking behind it) waiting."""
    async with committed_app_with(db_statement_timeout_ms=5000) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            headers = await auth_headers(app, "accountant")
            await set_up_company(client, headers)
            await book(client, headers, day="2026-03-02")
            read_page = exports_repo.journal_page
            changes: list[httpx.Response] = []

            async def page_then_change(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
                rows = await read_page(*args, **kwargs)
                if not changes:
                    body = company_body(legal_name="Muster Handels GmbH & Co. KG")
                    changes.append(await client.put(COMPANY, json=body, headers=headers))
                return rows

            monkeypatch.setattr(exports_repo, "journal_page", page_then_change)
            got = await client.get(
                GDPDU, params={"from": "2026-03-01", "to": "2026-03-31"}, headers=headers
            )
            assert got.status_code == 200, got.text
            assert changes[0].status_code == 200, changes[0].text
