"""Journal entries: drafts change freely; posting numbers them gap-free per fiscal year and
fixes them, in the API and in the database; a correction is a linked reversal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AuditEvent, JournalEntry
from app.domain.accounting import journal
from app.domain.accounting.rules import Line, Side
from app.domain.actor import Actor
from tests.factories.accounting import ENTRIES, book, entry_body, line


async def _entries(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(JournalEntry)) or 0)


async def test_a_draft_changes_and_goes_until_it_is_posted(
    client: httpx.AsyncClient, accountant: dict[str, str]
) -> None:
    draft = await book(client, accountant, post=False)
    assert (draft["status"], draft["number"], draft["hash"]) == ("draft", None, None)
    assert [(x["account"], x["side"], x["amount"]) for x in draft["lines"]] == [
        ("1000", "debit", "119.00"),
        ("8400", "credit", "100.00"),
        ("1776", "credit", "19.00"),
    ]
    where = f"{ENTRIES}/{draft['id']}"
    changed = await client.put(
        where,
        json=entry_body(text="Barverkauf Laden", lines=[line("1000", "debit", "50.00"),
                                                        line("8400", "credit", "50.00")]),
        headers={**accountant, "If-Match": f'"{draft["version"]}"'},
    )  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert (changed.json()["text"], len(changed.json()["lines"])) == ("Barverkauf Laden", 2)

    posted = await client.post(f"{where}/post", headers=accountant)
    assert posted.status_code == 200, posted.text
    assert (posted.json()["status"], posted.json()["number"]) == ("posted", 1)
    assert posted.json()["fiscal_year"] == 2026

    for refused in (
        await client.put(where, json=entry_body(), headers=accountant),
        await client.delete(where, headers=accountant),
        await client.post(f"{where}/post", headers=accountant),
    ):
        assert refused.status_code == 409, refused.text
    assert (await client.get(where, headers=accountant)).json() == posted.json()

    other = await book(client, accountant, post=False)
    assert (await client.delete(f"{ENTRIES}/{other['id']}", headers=accountant)).status_code == 204
    assert (await client.get(f"{ENTRIES}/{other['id']}", headers=accountant)).status_code == 404


async def test_numbers_are_gap_free_per_fiscal_year_and_hashes_chain(
    client: httpx.AsyncClient, session: AsyncSession, accountant: dict[str, str]
) -> None:
    first = await book(client, accountant, day="2026-01-02")
    # March is closed: the posting into it is refused, and takes no number.
    march = await client.post("/api/v1/accounting/periods/2026-03/close", headers=accountant)
    assert march.status_code == 200, march.text
    closed = await client.post(
        ENTRIES, json=entry_body(day="2026-03-10") | {"post": True}, headers=accountant
    )
    assert closed.status_code == 409, closed.text
    assert closed.json()["errors"][0]["pointer"] == "/posting_date"
    second = await book(client, accountant, day="2026-04-01")
    next_year = await book(client, accountant, day="2027-01-05")

    assert [e["number"] for e in (first, second, next_year)] == [1, 2, 1]
    assert first["previous_hash"] == ""
    assert next_year["previous_hash"] == ""
    assert second["previous_hash"] == first["hash"]
    assert len({first["hash"], second["hash"], next_year["hash"]}) == 3


async def test_a_posting_rolled_back_gives_its_number_back(
    client: httpx.AsyncClient, session: AsyncSession, accountant: dict[str, str]
) -> None:
    first = await book(client, accountant)
    data = journal.EntryData(
        document_date=date(2026, 5, 1),
        text="Verworfen",
        lines=[
            Line("1000", Side.debit, Decimal("1.00")),
            Line("8400", Side.credit, Decimal("1.00")),
        ],
    )
    async with session.begin_nested() as attempt:
        lost = await journal.create_entry(session, Actor("user:test"), data, post=True)
        assert lost["number"] == 2
        await attempt.rollback()
    kept = await book(client, accountant)
    assert kept["number"] == 2
    assert kept["previous_hash"] == first["hash"]


async def test_a_reversal_books_the_mirror_image_once(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, accountant: dict[str, str]
) -> None:
    original = await book(client, accountant)
    reversed_ = await client.post(
        f"{ENTRIES}/{original['id']}/reverse",
        json={"posting_date": "2026-04-02"},
        headers={**accountant, "Idempotency-Key": "r1"},
    )
    assert reversed_.status_code == 201, reversed_.text
    reversal = reversed_.json()
    assert (reversal["kind"], reversal["status"], reversal["number"]) == ("reversal", "posted", 2)
    assert reversal["reverses_id"] == original["id"]
    assert reversal["text"] == "Storno 2026-1: Barverkauf"
    flipped = {"debit": "credit", "credit": "debit"}
    assert [(x["account"], x["side"], x["amount"]) for x in reversal["lines"]] == [
        (x["account"], flipped[x["side"]], x["amount"]) for x in original["lines"]
    ]
    now = (await client.get(f"{ENTRIES}/{original['id']}", headers=accountant)).json()
    assert now["reversed_by_id"] == reversal["id"]

    for entry_id, key in ((original["id"], "r2"), (reversal["id"], "r3")):
        again = await client.post(
            f"{ENTRIES}/{entry_id}/reverse",
            json={"posting_date": "2026-04-03"},
            headers={**accountant, "Idempotency-Key": key},
        )
        assert again.status_code == 409, again.text
    draft = await book(client, accountant, post=False)
    of_draft = await client.post(
        f"{ENTRIES}/{draft['id']}/reverse",
        json={"posting_date": "2026-04-03"},
        headers={**accountant, "Idempotency-Key": "r4"},
    )
    assert of_draft.status_code == 409

    audited = (
        await session.execute(
            select(AuditEvent.action, AuditEvent.resource_id).where(
                AuditEvent.resource_type == "accounting_journal_entry"
            )
        )
    ).all()
    assert ("accounting.journal_entry.post", original["id"]) in audited
    assert ("accounting.journal_entry.reverse", reversal["id"]) in audited
    posted = await session.scalar(
        select(AuditEvent.after).where(
            AuditEvent.action == "accounting.journal_entry.post",
            AuditEvent.resource_id == original["id"],
        )
    )
    assert posted is not None
    assert (posted["status"], posted["number"], posted["lines"][0]["amount"]) == (
        "posted",
        1,
        "119.00",
    )


@pytest.mark.parametrize(
    ("change", "status", "pointer"),
    [
        ({"lines": [line("1000", "debit", "10.00"), line("8400", "credit", "9.99")]}, 422,
         "/lines"),
        ({"lines": [line("1000", "debit", "10.00")]}, 422, "/lines"),
        ({"lines": []}, 422, "/lines"),
        ({"lines": [line("1000", "debit", "-10.00"), line("8400", "credit", "-10.00")]}, 422,
         "/lines/0/amount"),
        ({"lines": [line("1000", "debit", "0"), line("8400", "credit", "0.00")]}, 422,
         "/lines/0/amount"),
        ({"lines": [line("1000", "debit", "1.005"), line("8400", "credit", "1.005")]}, 422,
         "/lines/0/amount"),
        ({"lines": [line("1000", "debit", "5.00"), line("8400", "credit", "5.00",
                                                        currency="USD")]}, 422,
         "/lines/1/currency"),
        ({"lines": [line("1000", "debit", "5.00"), line("8499", "credit", "5.00")]}, 409,
         "/lines/1/account"),
        ({"currency": "USD"}, 409, "/currency"),
        ({"document_date": "15.03.2026"}, 422, "/document_date"),
    ],
)  # fmt: skip
async def test_bad_entries_are_refused_naming_the_line_and_store_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    accountant: dict[str, str],
    change: dict[str, Any],
    status: int,
    pointer: str,
) -> None:
    await book(client, accountant)
    for post in (False, True):
        refused = await client.post(
            ENTRIES, json=entry_body(**change) | {"post": post}, headers=accountant
        )
        assert refused.status_code == status, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert pointer in [e.get("pointer") for e in refused.json()["errors"]], refused.text
    assert await _entries(session) == 1


async def test_a_deactivated_account_takes_no_new_postings(
    client: httpx.AsyncClient, accountant: dict[str, str]
) -> None:
    accounts = await client.get(
        "/api/v1/accounting/accounts", params={"limit": 500}, headers=accountant
    )
    till = next(a for a in accounts.json()["items"] if a["number"] == "1000")
    await client.patch(
        f"/api/v1/accounting/accounts/{till['id']}", json={"is_active": False}, headers=accountant
    )
    refused = await client.post(ENTRIES, json=entry_body(), headers=accountant)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["pointer"] == "/lines/0/account"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE accounting_journal_entry SET text = 'geändert' WHERE id = :id",
        "DELETE FROM accounting_journal_entry WHERE id = :id",
        "UPDATE accounting_journal_line SET amount = amount * 2 WHERE entry_id = :id",
        "DELETE FROM accounting_journal_line WHERE entry_id = :id",
        "INSERT INTO accounting_journal_line (entry_id, line_no, account_id, amount)"
        " SELECT entry_id, 9, account_id, amount FROM accounting_journal_line"
        " WHERE entry_id = :id AND line_no = 1",
        "TRUNCATE accounting_journal_line",
        # Nor does it take an entry that skips the draft (and so its number and hash).
        "INSERT INTO accounting_journal_entry (id, status, kind, currency, document_date,"
        " posting_date, text, created_by, fiscal_year, number, hash, previous_hash, posted_at)"
        " SELECT gen_random_uuid(), 'posted', 'regular', 'EUR', '2026-01-01', '2026-01-01',"
        " 'roh', 'psql', 2026, 99, 'h', '', now() WHERE :id IS NOT NULL",
    ],
)
async def test_the_database_refuses_to_change_a_posted_entry(
    client: httpx.AsyncClient, session: AsyncSession, accountant: dict[str, str], statement: str
) -> None:
    posted = await book(client, accountant)
    with pytest.raises(DBAPIError, match=r"posted|TRUNCATE"):
        async with session.begin_nested():
            await session.execute(text(statement), {"id": posted["id"]})


@pytest.mark.parametrize(
    "lines",
    [
        [("1000", "100.00"), ("8400", "-99.00")],
        [("1000", "100.00")],
        [],
    ],
)
async def test_the_database_refuses_an_entry_that_does_not_balance(
    client: httpx.AsyncClient,
    session: AsyncSession,
    accountant: dict[str, str],
    lines: list[tuple[str, str]],
) -> None:
    """Inserted behind the API's back: the deferred constraint trigger checks at commit (here
    forced with SET CONSTRAINTS ... IMMEDIATE, as the test's transaction never commits)."""
    async with session.begin_nested() as raw:
        await session.execute(
            text(
                "INSERT INTO accounting_journal_entry (id, status, kind, currency,"
                " document_date, posting_date, text, created_by) VALUES"
                " ('7d4c1f5e-0000-4000-8000-000000000001', 'draft', 'regular', 'EUR',"
                " '2026-01-01', '2026-01-01', 'roh', 'psql')"
            )
        )
        for number, (account, amount) in enumerate(lines, start=1):
            await session.execute(
                text(
                    "INSERT INTO accounting_journal_line (entry_id, line_no, account_id,"
                    " amount) SELECT '7d4c1f5e-0000-4000-8000-000000000001', :no, id,"
                    " :amount FROM accounting_account WHERE number = :account"
                ),
                {"no": number, "account": account, "amount": amount},
            )
        with pytest.raises(DBAPIError, match="does not balance"):
            await session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        await raw.rollback()


async def test_the_database_refuses_a_line_moved_to_another_entry(
    client: httpx.AsyncClient, session: AsyncSession, accountant: dict[str, str]
) -> None:
    """Both entries are checked: the one the line left no longer balances."""
    first = await book(client, accountant, post=False)
    second = await book(client, accountant, post=False)
    async with session.begin_nested() as raw:
        await session.execute(
            text(
                "UPDATE accounting_journal_line SET entry_id = :to, line_no = 9"
                " WHERE entry_id = :from AND line_no = 1"
            ),
            {"to": second["id"], "from": first["id"]},
        )
        with pytest.raises(DBAPIError, match="does not balance"):
            await session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        await raw.rollback()


async def test_entries_are_found_by_what_they_book(
    client: httpx.AsyncClient, accountant: dict[str, str]
) -> None:
    invoice = await book(client, accountant, source={"type": "invoice", "id": "RE-2026-0001"})
    order = await book(client, accountant, source={"type": "order", "id": "RE-2026-0001"})
    plain = await book(client, accountant)
    for params, expected in (
        ({"source_type": "invoice"}, {invoice["id"]}),
        ({"source_id": "RE-2026-0001"}, {invoice["id"], order["id"]}),
        ({"source_type": "invoice", "source_id": "RE-2026-0001"}, {invoice["id"]}),
        ({}, {invoice["id"], order["id"], plain["id"]}),
    ):
        found = (await client.get(ENTRIES, params=params, headers=accountant)).json()["items"]
        assert {e["id"] for e in found} == expected, params
    assert next(e for e in found if e["id"] == invoice["id"])["source"] == {
        "type": "invoice",
        "id": "RE-2026-0001",
    }
