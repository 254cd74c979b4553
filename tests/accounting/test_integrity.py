"""The hash chain: an entry changed, removed or renumbered behind the triggers' back (as a
superuser can) is named by GET /api/v1/accounting/integrity."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories.accounting import book, set_up_company
from tests.factories.identity import auth_headers

INTEGRITY = "/api/v1/accounting/integrity"


@pytest.fixture
async def three_entries(app: FastAPI, client: httpx.AsyncClient) -> list[dict[str, object]]:
    accountant = await auth_headers(app, "accountant")
    await set_up_company(client, accountant)
    return [await book(client, accountant, day=f"2026-0{month}-10") for month in (1, 2, 3)]


async def _behind_the_triggers(session: AsyncSession, *statements: str) -> None:
    """What a superuser can do: switch the triggers off for the session."""
    await session.execute(text("SET session_replication_role = replica"))
    for statement in statements:
        await session.execute(text(statement))
    await session.execute(text("SET session_replication_role = origin"))


async def test_an_untouched_ledger_is_intact(
    app: FastAPI, client: httpx.AsyncClient, three_entries: list[dict[str, object]]
) -> None:
    auditor = await auth_headers(app, "auditor")
    verdict = (await client.get(INTEGRITY, headers=auditor)).json()
    assert (verdict["intact"], verdict["entries_checked"], verdict["first_broken"]) == (
        True,
        3,
        None,
    )
    assert verdict["fiscal_years"] == [
        {"fiscal_year": 2026, "entries": 3, "last_number": 3, "last_hash": three_entries[2]["hash"]}
    ]


@pytest.mark.parametrize(
    ("statements", "number", "problem"),
    [
        (["UPDATE accounting_journal_line SET amount = amount * 10 WHERE entry_id = :second"],
         2, "content"),
        (["UPDATE accounting_journal_entry SET posting_date = '2026-02-11' WHERE id = :second"],
         2, "content"),
        (["DELETE FROM accounting_journal_line WHERE entry_id = :second",
          "DELETE FROM accounting_journal_entry WHERE id = :second"], 3, "gap"),
        (["DELETE FROM accounting_journal_line WHERE entry_id = :third",
          "DELETE FROM accounting_journal_entry WHERE id = :third"], 3, "missing"),
        (["UPDATE accounting_journal_entry SET previous_hash = repeat('0', 64) WHERE id = :third"],
         3, "chain"),
        # The last entry rewritten with a consistent hash: only the year's kept hash tells.
        (["UPDATE accounting_journal_line SET amount = amount * 2 WHERE entry_id = :third",
          "UPDATE accounting_journal_entry SET hash = accounting_entry_hash(id, fiscal_year,"
          " number, previous_hash) WHERE id = :third"], 3, "anchor"),
    ],
)  # fmt: skip
async def test_an_entry_changed_behind_the_triggers_is_named(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    three_entries: list[dict[str, object]],
    statements: list[str],
    number: int,
    problem: str,
) -> None:
    ids = {"second": three_entries[1]["id"], "third": three_entries[2]["id"]}
    await _behind_the_triggers(
        session, *(s.replace(":second", f"'{ids['second']}'").replace(":third", f"'{ids['third']}'")
                   for s in statements)
    )  # fmt: skip
    verdict = (await client.get(INTEGRITY, headers=await auth_headers(app, "auditor"))).json()
    assert verdict["intact"] is False
    assert (verdict["first_broken"]["number"], verdict["first_broken"]["problem"]) == (
        number,
        problem,
    )


async def test_kept_balances_that_differ_from_the_lines_are_reported(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, three_entries: object
) -> None:
    await session.execute(text("UPDATE accounting_monthly_balance SET debit = debit + 1"))
    verdict = (await client.get(INTEGRITY, headers=await auth_headers(app, "accountant"))).json()
    assert verdict["first_broken"] is None
    assert (verdict["intact"], verdict["balances_drifted"] > 0) == (False, True)
